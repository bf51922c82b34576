import Foundation

/// `migrate new NAME`: the next version, up and down files from a template that sets timeouts.
public enum NewMigration {
    /// Creates the files and returns their paths (relative to the directory). `single` writes one file
    /// with `-- migrate:up` / `-- migrate:down` sections.
    @discardableResult
    public static func create(name rawName: String, config: MigrationConfig, single: Bool = false, now: Date = Date()) throws -> [String] {
        let name = rawName.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.reduce(into: "") { s, c in
            if !(c == "_" && s.hasSuffix("_")) { s.append(c) }
        }.trimmingCharacters(in: CharacterSet(charactersIn: "_"))
        guard !name.isEmpty else { throw MigrationError(.invalidInput, "migration name '\(rawName)' has no letters or digits") }
        try FileManager.default.createDirectory(atPath: config.directory, withIntermediateDirectories: true)
        let set = try Discovery.load(config)
        let versionText = nextVersion(set, now: now)
        let upFile = "\(versionText)_\(name).sql"
        let header = """
            -- \(versionText) \(name)
            -- Fail fast instead of queueing behind a long transaction (and blocking everyone behind us).
            SET lock_timeout = '5s';
            SET statement_timeout = '5min';

            """
        var written: [String] = []
        func write(_ file: String, _ text: String) throws {
            let path = set.path(file)
            guard !FileManager.default.fileExists(atPath: path) else {
                throw MigrationError(.invalidInput, "\(file) already exists")
            }
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            written.append(file)
        }
        if single {
            try write(upFile, "-- migrate:up\n" + header + "-- TODO: the change\n\n-- migrate:down\n" + header + "-- TODO: undo exactly what the up section does\n")
        } else {
            let downFile = config.downPattern.replacingOccurrences(of: "{version}", with: versionText).replacingOccurrences(of: "{name}", with: name)
            try write(upFile, header + "-- TODO: the change\n")
            try write(downFile, header + "-- TODO: undo exactly what \(upFile) does\n")
        }
        return written
    }

    /// Max + 1 keeping the existing width; a timestamp when the directory uses timestamps.
    static func nextVersion(_ set: MigrationSet, now: Date) -> String {
        guard let last = set.migrations.max(by: { $0.version < $1.version }) else { return "001" }
        if last.versionText.count >= 12 {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = String("yyyyMMddHHmmss".prefix(last.versionText.count))
            let stamp = f.string(from: now)
            if let v = Int64(stamp), v > last.version { return stamp }
            return String(last.version + 1)
        }
        let next = String(last.version + 1)
        return String(repeating: "0", count: max(0, last.versionText.count - next.count)) + next
    }
}
