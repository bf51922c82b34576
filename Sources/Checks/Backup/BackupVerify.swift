import Foundation
import Postgres
import Support

/// Proves a backup restorable: checks its sha256, restores it into a scratch database on the same
/// server, compares row counts and schema version with the manifest, checks the invariants, drops it.
public struct BackupVerify: StepKind {
    public static let name = "backup.verify"
    public static let summary = "Restore a backup into a scratch database (opsctl_verify_*, always dropped): sha256, row counts, schema version, invariants, restore time"
    public static let parameters: [ParameterSpec] = [
        .init("dir", .string, required: true, "backup directory (opsctl.yaml backups.dir)"),
        .init("file", .string, default: "latest", "backup to verify: a path, a file name in dir, or latest"),
        .init("table", .string, default: "opsctl.schema_migrations", "migration history table (schema version)"),
        .init("invariants", .list, "[{name, sql}]: queries returning the number of rows that break a rule (0 holds)"),
        .init("jobs", .int, default: 2, "pg_restore -j for custom archives"),
        .init("keep", .bool, default: false,
              "keep the restored copy for the steps that follow (details.scratch_database names it; point them at it with `database:`); a later backup.drop_scratch step drops it"),
    ]
    /// It never touches the environment's own database: it creates and drops a scratch database beside it.
    public static let mutates = false
    public static let example = """
        - id: verify-backup
          kind: backup.verify
          with: { dir: /tmp/opsctl-example-backups, file: latest }
        """

    static let scratchPrefix = "opsctl_verify_"
    /// application_name of the session that owns a scratch database while it is in use.
    static let holderPrefix = "opsctl-scratch:"

    let dir: String
    let file: String
    let historyTable: String
    let invariants: [BackupFacts.Invariant]
    let jobs: Int
    let keep: Bool

    public init(_ p: StepParameters) throws {
        dir = try p.string("dir")
        file = try p.string("file", default: "latest")
        historyTable = try p.string("table", default: "opsctl.schema_migrations")
        invariants = try BackupFacts.invariants(p)
        jobs = try p.int("jobs", default: 2)
        keep = try p.bool("keep", default: false)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let path = try BackupStore(directory: dir).resolve(file)
        let name = (path as NSString).lastPathComponent
        let manifest = try BackupStore.readManifest(for: path)
        let format = try BackupStore.format(of: path)
        try BackupTools.require(format == "custom" ? ["pg_restore"] : ["psql"])
        var details: [String: JSONValue] = ["file": .string(path), "format": .string(format)]
        // The checksum is computed while the restore runs (the restore mostly waits on the server), so
        // it costs no wall time; a mismatch still decides the verdict, ahead of anything the restore says.
        let checksum = manifest.map { _ in BackgroundChecksum(path: path, cancellation: context.cancellation) }
        func mismatch() throws -> StepOutcome? {
            guard let manifest, let checksum else { return nil }
            let sha = try checksum.value()
            guard sha != manifest.sha256 else { return nil }
            details["sha256"] = .string(sha)
            return .init(.fail, "\(name): sha256 mismatch (file \(sha.prefix(12))…, manifest \(manifest.sha256.prefix(12))…): the file is corrupt or was changed",
                         details: details)
        }
        let admin = try context.connect()
        // With keep, the connection (whose application_name marks the copy as in use) outlives the
        // step: backup.drop_scratch closes it; if the process dies, the next verify drops the copy.
        var kept = false
        defer { if !kept { admin.close() } }
        let scratch = Self.scratchPrefix + String(UUID().uuidString.prefix(8)).lowercased()
        let started = Date()
        var restoreMs = 0
        let result: (problems: [String], checked: [String])
        do {
            let leftovers = Self.dropAbandoned(admin)
            if !leftovers.dropped.isEmpty { details["dropped_leftovers"] = .array(leftovers.dropped.map(JSONValue.string)) }
            if !leftovers.failed.isEmpty { details["leftovers"] = .array(leftovers.failed.map(JSONValue.string)) }
            // Marked before the scratch database exists, for as long as this session lives: another
            // verify sees it is not abandoned. (Not an advisory lock: those are per database, and
            // verifies of other databases on the same server must see it too; pg_stat_activity is
            // the server's.)
            _ = try admin.query("SELECT set_config('application_name', $1, false)", [Self.holderPrefix + scratch])
            _ = try admin.execute("CREATE DATABASE \(quoteIdentifier(scratch))")
            // Dropped on every way out, a failed restore and a timeout or Ctrl-C included.
            defer { if !kept { _ = try? admin.execute("DROP DATABASE IF EXISTS \(quoteIdentifier(scratch)) WITH (FORCE)") } }
            do { try BackupTools(context).restoreInto(database: scratch, file: path, format: format, jobs: jobs) } catch {
                if let failed = try mismatch() { return failed }
                throw error
            }
            restoreMs = Int(Date().timeIntervalSince(started) * 1000)
            if let failed = try mismatch() { return failed }
            let db = try PostgresConnection(dsn: try BackupTools(context).client(database: scratch).dsn,
                                            applicationName: context.applicationName)
            defer { db.close() }
            if let manifest {
                result = try BackupFacts.compare(db, with: manifest, historyTable: historyTable, invariants: invariants)
            } else {
                result = (try BackupFacts.broken(db, invariants), [])
            }
            if let version = try BackupFacts.schemaVersion(db, historyTable: historyTable) { details["schema_version"] = .int(Int(version)) }
            if keep {
                KeptScratch.shared.hold(scratch, admin)
                kept = true
                details["scratch_database"] = .string(scratch)
            }
        } catch let error as PostgresError {
            throw StepError(error.description, details: details)
        } catch let error as StepError {
            throw StepError("\(name): \(error.message)", details: details.merging(error.details) { $1 })
        }
        details["restore_ms"] = .int(restoreMs)
        details["checked"] = .array(result.checked.map(JSONValue.string))
        details["problems"] = .array(result.problems.map(JSONValue.string))
        let metrics = [Metric(name: "restore_duration", value: Double(restoreMs), unit: "ms", min: 0)]
        let took = String(format: "%.1f s", Double(restoreMs) / 1000)
        if !result.problems.isEmpty {
            return .init(.fail, "\(name) restored in \(took) but does not match: \(result.problems.joined(separator: "; "))",
                         details: details, metrics: metrics)
        }
        guard manifest != nil else {
            return .init(.warn, "\(name) restored in \(took); no manifest, so row counts and schema version were not compared",
                         details: details, metrics: metrics)
        }
        let invariantText = invariants.isEmpty ? "" : ", \(invariants.count) invariant(s) hold"
        return .ok("\(name) restored in \(took): sha256 ok, \(result.checked.joined(separator: ", "))\(invariantText)",
                   details: details, metrics: metrics)
    }

    /// Scratch databases left by a verify that was killed (kill -9 runs no cleanup). A verify running
    /// now (or a kept copy) has a session named after its database, so only abandoned ones are dropped.
    /// Returns what it dropped and what it could not (named in the report, for a DBA to drop by hand).
    @discardableResult
    static func dropAbandoned(_ admin: PostgresConnection) -> (dropped: [String], failed: [String]) {
        let names = (try? admin.query("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", [scratchPrefix]).rows
            .compactMap { $0["datname"].string }) ?? []
        guard !names.isEmpty else { return ([], []) }
        // Listed after the databases: a verify marks its session before it creates its database.
        guard let holders = try? admin.query("SELECT application_name FROM pg_stat_activity WHERE starts_with(application_name, $1)",
                                             [holderPrefix]).rows.compactMap({ $0["application_name"].string }) else { return ([], []) }
        let inUse = Set(holders.map { String($0.dropFirst(holderPrefix.count)) })
        var dropped: [String] = [], failed: [String] = []
        for name in names where !KeptScratch.shared.holds(name) && !inUse.contains(name) {
            do {
                _ = try admin.execute("DROP DATABASE IF EXISTS \(quoteIdentifier(name)) WITH (FORCE)")
                dropped.append(name)
            } catch {
                failed.append(name)
            }
        }
        return (dropped, failed)
    }
}

/// sha256 of a file computed on its own thread; `value()` waits for it.
final class BackgroundChecksum: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var result: Result<String, Error>?

    init(path: String, cancellation: Cancellation) {
        Thread { [self] in
            let r = Result { try BackupStore.sha256(of: path, cancellation: cancellation) }
            lock.withLock { result = r }
            done.signal()
        }.start()
    }

    func value() throws -> String {
        if let r = lock.withLock({ result }) { return try r.get() }
        done.wait()
        done.signal()
        return try lock.withLock { result }!.get()
    }
}
