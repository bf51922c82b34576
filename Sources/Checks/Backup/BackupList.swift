import Foundation

/// The backups in the directory: age, size, format, schema version; warns when the newest is too old.
public struct BackupList: StepKind {
    public static let name = "backup.list"
    public static let summary = "Backups in the directory with age, size, format and schema version; warn/crit when the newest is older than a limit"
    public static let parameters: [ParameterSpec] = [
        .init("dir", .string, required: true, "backup directory (opsctl.yaml backups.dir)"),
        .init("age_warn", .duration, "warn when the newest backup is older than this (e.g. 26h)"),
        .init("age_crit", .duration, "fail when the newest backup is older than this, or there is none"),
    ]
    public static let mutates = false
    public static let example = """
        - id: backups
          kind: backup.list
          with: { dir: /tmp/opsctl-example-backups, age_warn: 26h }
        """

    let dir: String
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        dir = try p.string("dir")
        thresholds = Thresholds(warn: try p.duration("age_warn"), crit: try p.duration("age_crit"), direction: .above)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let entries = try BackupStore(directory: dir).entries()
        let now = Date()
        let rows: [JSONValue] = entries.map { e in
            .object([
                "name": .string(e.name), "path": .string(e.path), "created_at": .string(ISO8601DateFormatter().string(from: e.createdAt)),
                "age_seconds": .int(Int(now.timeIntervalSince(e.createdAt))), "age": .string(Self.age(now.timeIntervalSince(e.createdAt))),
                "size_bytes": .int(Int(e.sizeBytes)), "size": .string(ByteText.format(e.sizeBytes)), "format": .string(e.format),
                "schema_version": e.manifest?.schemaVersion.map { .int(Int($0)) } ?? .null,
                "label": e.manifest?.label.map(JSONValue.string) ?? .null, "manifest": .bool(e.manifest != nil),
            ])
        }
        let lines = entries.map { e in
            "\(e.name)  \(Self.age(now.timeIntervalSince(e.createdAt))) old  \(ByteText.format(e.sizeBytes))  \(e.format)  schema \(e.manifest?.schemaVersion.map(String.init) ?? "?")"
                + (e.manifest == nil ? "  (no manifest)" : "")
        }
        let details: [String: JSONValue] = ["dir": .string(dir), "backups": .array(rows), "count": .int(entries.count),
                                            "listing": .array(lines.map(JSONValue.string))]
        guard let newest = entries.first else {
            return .init(thresholds.crit == nil ? .ok : .fail, "no backups in \(dir)", details: details)
        }
        let age = now.timeIntervalSince(newest.createdAt)
        let total = entries.reduce(Int64(0)) { $0 + $1.sizeBytes }
        return .measured(thresholds.status(for: age),
                         "\(entries.count) backup(s) in \(dir), \(ByteText.format(total)); newest \(newest.name), \(Self.age(age)) old",
                         details: details, metrics: [thresholds.metric("newest_backup_age", age, unit: "s", min: 0),
                                                     Metric(name: "backups", value: Double(entries.count), unit: "count", min: 0)])
    }

    /// `3d 4h`, `25m`: an age at a glance.
    static func age(_ seconds: Double) -> String {
        let s = Int(max(0, seconds))
        if s >= 86_400 { return "\(s / 86_400)d \(s % 86_400 / 3600)h" }
        if s >= 3600 { return "\(s / 3600)h \(s % 3600 / 60)m" }
        if s >= 60 { return "\(s / 60)m" }
        return "\(s)s"
    }
}
