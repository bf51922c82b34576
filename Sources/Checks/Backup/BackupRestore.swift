import Foundation
import Postgres
import Support

/// Replaces the environment database's contents with a backup (custom archive or plain SQL, told
/// apart by the `PGDMP` header): safety dump first, one transaction, then the manifest's checks.
public struct BackupRestore: StepKind {
    public static let name = "backup.restore"
    public static let summary = "Restore a backup (pg_dump custom or plain SQL) into the environment's database in one transaction, after a safety dump; then verify against the manifest"
    public static let parameters: [ParameterSpec] = [
        .init("file", .string, required: true, "backup: a path, a file name in dir, or latest"),
        .init("dir", .string, required: true, "backup directory: file names resolve here, the safety dump goes here"),
        .init("safety_dump", .bool, default: true, "dump the database as it is before replacing it (label pre-restore)"),
        .init("before_restore", .string, "shell command run first, {file} bound to the backup's quoted path (e.g. a download)"),
        .init("count_tables", .list, "tables the safety dump's manifest counts, besides the service's event table"),
        .init("table", .string, default: "opsctl.schema_migrations", "migration history table (schema version)"),
        .init("invariants", .list, "[{name, sql}] checked after the restore (0 rows break each)"),
        .init("environment", .string, "environment name recorded in the safety dump's manifest"),
    ]
    public static let mutates = true
    public static let example = """
        - id: restore
          kind: backup.restore
          confirm: true
          with: { file: latest, dir: /tmp/opsctl-example-backups }
        """

    let file: String
    let dir: String
    let safetyDump: Bool
    let beforeRestore: String?
    let countTables: [String]
    let historyTable: String
    let invariants: [BackupFacts.Invariant]
    let environmentName: String?

    public init(_ p: StepParameters) throws {
        file = try p.string("file")
        dir = try p.string("dir")
        safetyDump = try p.bool("safety_dump", default: true)
        beforeRestore = try p.nonEmptyString("before_restore")
        countTables = try p.stringList("count_tables")
        historyTable = try p.string("table", default: "opsctl.schema_migrations")
        invariants = try BackupFacts.invariants(p)
        environmentName = try p.optionalString("environment")
    }

    /// Where the backup is (or, with a before_restore hook, will be once downloaded).
    func target() throws -> String {
        let store = BackupStore(directory: dir)
        if beforeRestore != nil && file != "latest" && !FileManager.default.fileExists(atPath: file) {
            return file.contains("/") ? file : dir + "/" + file
        }
        return try store.resolve(file)
    }

    public func plan(_ context: StepContext) throws -> String {
        let path = try target()
        var lines: [String] = []
        if let beforeRestore { lines.append("would run before_restore: \(beforeRestore)") }
        if FileManager.default.fileExists(atPath: path) {
            let format = try BackupStore.format(of: path)
            try BackupTools.require(format == "custom" ? ["pg_restore", "psql", "bash"] : ["psql", "bash"])
            if let manifest = try BackupStore.readManifest(for: path) {
                let sha = try BackupStore.sha256(of: path, cancellation: context.cancellation)
                guard sha == manifest.sha256 else { throw StepError("\(path): sha256 mismatch: the file is corrupt or was changed") }
            }
            lines.append("would restore \(path) (\(format)) in one transaction")
        } else {
            lines.append("would restore \(path) once downloaded")
        }
        let db = try context.connect()
        defer { db.close() }
        let name = try db.query("SELECT current_database() AS d").first?["d"].string ?? "database"
        if safetyDump { lines.insert("would dump \(name) into \(dir) first (safety dump)", at: lines.count - 1) }
        lines[lines.count - 1] += ", replacing the contents of \(name)"
        return lines.joined(separator: "\n")
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let tools = try BackupTools(context)
        let path = try target()
        let name = (path as NSString).lastPathComponent
        var details: [String: JSONValue] = ["file": .string(path)]
        if let beforeRestore {
            details["hook_output"] = .string(try tools.hook("before_restore", beforeRestore, file: path))
        }
        guard FileManager.default.fileExists(atPath: path) else { throw StepError("backup file \(path) not found") }
        let format = try BackupStore.format(of: path)
        details["format"] = .string(format)
        try BackupTools.require(format == "custom" ? ["pg_restore", "psql", "bash"] : ["psql", "bash"])
        let manifest = try BackupStore.readManifest(for: path)
        if let manifest {
            let sha = try BackupStore.sha256(of: path, cancellation: context.cancellation)
            guard sha == manifest.sha256 else {
                return .init(.fail, "\(name): sha256 mismatch, nothing restored: the file is corrupt or was changed", details: details)
            }
        }
        if safetyDump {
            var params: [String: JSONValue] = ["dir": .string(dir), "table": .string(historyTable), "label": "pre-restore",
                                               "count_tables": .array(countTables.map(JSONValue.string))]
            if let environmentName { params["environment"] = .string(environmentName) }
            let (safety, _) = try BackupCreate(StepParameters(params)).create(context)
            details["safety_dump"] = .string(safety)
        }
        let started = Date()
        try tools.restoreReplacing(file: path, format: format)
        let restoreMs = Int(Date().timeIntervalSince(started) * 1000)
        details["restore_ms"] = .int(restoreMs)
        let db = try context.connect()
        defer { db.close() }
        let result: (problems: [String], checked: [String])
        do {
            if let manifest {
                result = try BackupFacts.compare(db, with: manifest, historyTable: historyTable, invariants: invariants)
            } else {
                result = (try BackupFacts.broken(db, invariants), [])
            }
        } catch let error as PostgresError {
            throw StepError("restored, but the checks could not run: \(error.description)", details: details)
        }
        details["checked"] = .array(result.checked.map(JSONValue.string))
        let metrics = [Metric(name: "restore_duration", value: Double(restoreMs), unit: "ms", min: 0)]
        let took = String(format: "%.1f s", Double(restoreMs) / 1000)
        let safety = details["safety_dump"]?.string.map { "; safety dump \(($0 as NSString).lastPathComponent)" } ?? ""
        if !result.problems.isEmpty {
            return .init(.fail, "restored \(name) in \(took) but it does not match its manifest: \(result.problems.joined(separator: "; "))\(safety)",
                         details: details, metrics: metrics)
        }
        let checked = manifest == nil ? "no manifest to compare" : result.checked.joined(separator: ", ")
        return .ok("restored \(name) (\(format)) in \(took): \(checked)\(safety)", details: details, metrics: metrics)
    }
}
