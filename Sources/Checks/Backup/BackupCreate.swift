import Foundation
import Postgres
import Support

/// pg_dump of the environment's database into the backup directory, with a manifest beside it.
public struct BackupCreate: StepKind {
    public static let name = "backup.create"
    public static let summary = "pg_dump (custom or plain SQL) to the backup directory, atomically, with a manifest (row counts, schema version, sha256)"
    public static let parameters: [ParameterSpec] = [
        .init("dir", .string, required: true, "backup directory (opsctl.yaml backups.dir)"),
        .init("format", .string, default: "custom", "custom (pg_dump -Fc, restored with pg_restore -j) or plain (SQL, psql)"),
        .init("count_tables", .list, "tables whose row counts the manifest records, besides the service's event table"),
        .init("table", .string, default: "opsctl.schema_migrations", "migration history table (the manifest's schema version)"),
        .init("after_create", .string, "shell command run after the dump, {file} bound to its quoted path (e.g. an upload)"),
        .init("environment", .string, "environment name recorded in the manifest"),
        .init("label", .string, "word added to the file name and manifest (restore's safety dump uses pre-restore)"),
    ]
    public static let mutates = true
    public static let example = """
        - id: backup
          kind: backup.create
          with: { dir: /tmp/opsctl-example-backups, format: custom, count_tables: [request_log] }
        """

    let dir: String
    let format: String
    let countTables: [String]
    let historyTable: String
    let afterCreate: String?
    let environmentName: String?
    let label: String?

    public init(_ p: StepParameters) throws {
        dir = try p.string("dir")
        format = try p.string("format", default: "custom")
        guard ["custom", "plain"].contains(format) else { throw StepError("step '\(p.stepID)': format must be custom or plain, got \(format)") }
        countTables = try p.stringList("count_tables")
        historyTable = try p.string("table", default: "opsctl.schema_migrations")
        afterCreate = try p.nonEmptyString("after_create")
        environmentName = try p.optionalString("environment")
        label = try p.nonEmptyString("label")
    }

    public func plan(_ context: StepContext) throws -> String {
        try BackupTools.require(["pg_dump"])
        try Self.ensureDirectory(dir)
        let db = try context.connect()
        defer { db.close() }
        let name = try db.query("SELECT current_database() AS d").first?["d"].string ?? "database"
        return "would dump \(name) (\(format)) into \(dir)" + (afterCreate.map { ", then run after_create: \($0)" } ?? "")
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let (path, manifest) = try create(context)
        var details: [String: JSONValue] = ["file": .string(path), "manifest": manifest.json]
        if let afterCreate {
            do { details["hook_output"] = .string(try BackupTools(context).hook("after_create", afterCreate, file: path)) } catch let e as StepError {
                return .init(.fail, "backup \(manifest.file) written, but \(e.message)", details: details.merging(e.details) { $1 })
            }
        }
        let counts = manifest.rowCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return .ok("backup \(manifest.file): \(ByteText.format(manifest.sizeBytes)) \(manifest.format), schema \(manifest.schemaVersion.map(String.init) ?? "none")"
                   + (counts.isEmpty ? "" : ", rows: \(counts)"), details: details,
                   metrics: [Metric(name: "backup_size", value: Double(manifest.sizeBytes), unit: "B", min: 0),
                             Metric(name: "backup_duration", value: Double(manifest.durationMs), unit: "ms", min: 0)])
    }

    /// Dumps and writes the manifest; the file appears under its final name only once complete.
    func create(_ context: StepContext) throws -> (String, BackupManifest) {
        try BackupTools.require(["pg_dump"])
        try Self.ensureDirectory(dir)
        let tools = try BackupTools(context)
        let db = try context.connect()
        defer { db.close() }
        let started = Date()
        do {
            // Counts, schema version and the dump read one exported snapshot: the manifest describes
            // exactly the rows in the file even while the service keeps writing.
            _ = try db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            let facts = try db.query("SELECT current_database() AS d, current_setting('server_version') AS v, pg_export_snapshot() AS s").first
            let database = facts?["d"].string ?? "database"
            let counts = try BackupFacts.rowCounts(db, tables: BackupFacts.countedTables(context, extra: countTables))
            let version = try BackupFacts.schemaVersion(db, historyTable: historyTable)
            let store = BackupStore(directory: dir)
            let path = store.newPath(database: database, format: format, label: label, at: started)
            let tmp = dir + "/." + (path as NSString).lastPathComponent + ".partial"
            defer { unlink(tmp) }
            try tools.dump(to: tmp, format: format, snapshot: facts?["s"].string)
            _ = try db.execute("COMMIT")
            let duration = Int(Date().timeIntervalSince(started) * 1000)
            let sha = try BackupStore.sha256(of: tmp, cancellation: context.cancellation)
            let size = ((try? FileManager.default.attributesOfItem(atPath: tmp))?[.size] as? NSNumber)?.int64Value ?? 0
            try BackupStore.publish(tmp, as: path)
            let manifest = BackupManifest(file: (path as NSString).lastPathComponent, format: format, createdAt: started,
                                          environment: environmentName, database: database, serverVersion: facts?["v"].string,
                                          schemaVersion: version, rowCounts: counts, sha256: sha, sizeBytes: size,
                                          durationMs: duration, label: label)
            try store.write(manifest, for: path)
            return (path, manifest)
        } catch let error as PostgresError {
            throw StepError(error.description)
        }
    }

    static func ensureDirectory(_ dir: String) throws {
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw StepError("cannot create the backup directory \(dir): \(error.localizedDescription)")
        }
        guard FileManager.default.isWritableFile(atPath: dir) else { throw StepError("backup directory \(dir) is not writable") }
    }
}

/// `12.3 MB`: sizes as an operator reads them.
enum ByteText {
    static func format(_ bytes: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) B" : "\(String(format: "%.1f", value)) \(units[unit])"
    }
}
