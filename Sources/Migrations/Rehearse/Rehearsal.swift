import Foundation
import Postgres
import Support

/// The outcome of `migrate rehearse`.
public struct RehearsalReport: Sendable {
    public struct Step: Sendable {
        public var version: Int64
        public var name: String
        /// `up`, `down`, `reapply`.
        public var phase: String
        public var ok: Bool
        public var message: String
        public var durationMs: Int
    }

    public var steps: [Step]
    /// A migration that fails on a fresh database (with file:line:col).
    public var freshFailure: MigrationError?
    /// The first migration (newest first) whose down does not restore the schema, with the difference.
    public var firstNonRestoringDown: (version: Int64, difference: [String])?
    /// A down script that failed or is missing.
    public var downFailure: MigrationError?
    public var reapplyFailure: MigrationError?
    public var migrations: Int
    public var durationMs: Int

    public var passed: Bool { freshFailure == nil && firstNonRestoringDown == nil && downFailure == nil && reapplyFailure == nil }

    public var message: String {
        if let f = freshFailure { return "fails on a fresh database: \(f)" }
        if let d = firstNonRestoringDown {
            return "down of \(d.version) does not restore the schema: " + d.difference.prefix(5).joined(separator: "; ")
        }
        if let f = downFailure { return "down check failed: \(f)" }
        if let f = reapplyFailure { return "re-applying after the down checks failed: \(f)" }
        return "\(migrations) migration(s) apply on a fresh database, every down restores the schema, and re-apply works (\(durationMs) ms)"
    }
}

/// Rehearses the migrations in a scratch database: apply all from empty (snapshotting the schema
/// before each), then newest→oldest run each down and compare with the snapshot taken before its up,
/// then re-apply everything.
public struct Rehearsal: Sendable {
    public var config: MigrationConfig
    /// A URL of the server to rehearse on (a role that may CREATE DATABASE); its database is not touched.
    public var serverDSN: String
    /// An interrupt stops the rehearsal after the statement in flight (the scratch database is still dropped).
    public var cancellation: Cancellation

    public init(config: MigrationConfig, serverDSN: String, cancellation: Cancellation = Cancellation()) {
        self.config = config
        self.serverDSN = serverDSN
        self.cancellation = cancellation
    }

    public func run() throws -> RehearsalReport {
        let started = Date()
        let set = try Discovery.load(config)
        if let dup = set.problems.first(where: { $0.rule == "duplicate-version" }) {
            throw MigrationError(.invalidInput, dup.message, location: SourceLocation(file: dup.file, line: 1, column: 1), version: dup.version)
        }
        let scratch = try ScratchDatabase(serverDSN: serverDSN, applicationName: config.applicationName + "/rehearse")
        defer { scratch.drop() }
        var cfg = config
        cfg.applicationName = config.applicationName + "/rehearse"
        let migrator = try Migrator(config: cfg, dsn: scratch.dsn, cancellation: cancellation)
        let history = migrator.history
        let db = try migrator.connect("/snapshot")
        defer { db.close() }
        func snapshot() throws -> SchemaSnapshot { try migrator.guarded("snapshotting the schema") { try SchemaSnapshot.take(db, history: history) } }

        var report = RehearsalReport(steps: [], migrations: set.migrations.count, durationMs: 0)
        var before: [Int64: SchemaSnapshot] = [:]
        for m in set.migrations {
            before[m.version] = try snapshot()
            let t = Date()
            let r = try apply(migrator, to: m.version)
            let ms = Int(Date().timeIntervalSince(t) * 1000)
            if let f = r.failure, f.kind == .interrupted { throw f }
            if let f = r.failure {
                report.steps.append(.init(version: m.version, name: m.name, phase: "up", ok: false, message: f.description, durationMs: ms))
                report.freshFailure = f
                report.durationMs = Int(Date().timeIntervalSince(started) * 1000)
                return report
            }
            report.steps.append(.init(version: m.version, name: m.name, phase: "up", ok: true, message: "applied", durationMs: ms))
        }
        let full = try snapshot()
        for m in set.migrations.reversed() {
            guard m.down != nil else {
                report.downFailure = MigrationError(.blocked, "no down script for \(m.upFile): cannot check it or anything older",
                                                    location: SourceLocation(file: m.upFile, line: 1, column: 1), version: m.version)
                report.steps.append(.init(version: m.version, name: m.name, phase: "down", ok: false, message: "missing down script", durationMs: 0))
                break
            }
            let t = Date()
            let r: MigrationRunReport
            do { r = try migrator.rollback(steps: 1) } catch let e as MigrationError {
                if e.kind == .interrupted { throw e }
                report.downFailure = e
                report.steps.append(.init(version: m.version, name: m.name, phase: "down", ok: false, message: e.description, durationMs: 0))
                break
            }
            let ms = Int(Date().timeIntervalSince(t) * 1000)
            if let f = r.failure, f.kind == .interrupted { throw f }
            if let f = r.failure {
                report.downFailure = f
                report.steps.append(.init(version: m.version, name: m.name, phase: "down", ok: false, message: f.description, durationMs: ms))
                break
            }
            let after = try snapshot()
            if let expected = before[m.version], after != expected {
                let diff = after.difference(from: expected)
                report.firstNonRestoringDown = (m.version, diff)
                report.steps.append(.init(version: m.version, name: m.name, phase: "down", ok: false,
                                          message: "schema differs from before its up: " + diff.prefix(5).joined(separator: "; "), durationMs: ms))
                break
            }
            report.steps.append(.init(version: m.version, name: m.name, phase: "down", ok: true, message: "restores the schema", durationMs: ms))
        }
        if report.passed {
            let t = Date()
            let r = try apply(migrator, to: nil)
            let ms = Int(Date().timeIntervalSince(t) * 1000)
            if let f = r.failure, f.kind == .interrupted { throw f }
            if let f = r.failure {
                report.reapplyFailure = f
            } else if try snapshot() != full {
                report.reapplyFailure = MigrationError(.verification, "re-applying everything gives a different schema than the first time")
            }
            report.steps.append(.init(version: set.migrations.last?.version ?? 0, name: "all", phase: "reapply",
                                      ok: report.reapplyFailure == nil, message: report.reapplyFailure?.description ?? "re-applied", durationMs: ms))
        }
        report.durationMs = Int(Date().timeIntervalSince(started) * 1000)
        return report
    }

    /// Apply, turning a thrown statement failure into a report failure.
    private func apply(_ m: Migrator, to target: Int64?) throws -> MigrationRunReport {
        do {
            return try m.apply(to: target)
        } catch let e as MigrationError where e.kind == .invalidInput || e.kind == .blocked {
            return MigrationRunReport(direction: .up, dryRun: false, planned: [], completed: [], failure: e, waitedFor: nil, currentVersion: 0)
        }
    }
}

/// A throwaway database on the rehearsal server, dropped afterwards.
final class ScratchDatabase {
    let admin: PostgresConnection
    let name: String
    let dsn: String

    init(serverDSN: String, applicationName: String) throws {
        do {
            admin = try PostgresConnection(dsn: serverDSN, applicationName: String(applicationName.prefix(63)))
        } catch let e as PostgresError { throw MigrationError.from(e, "connecting to the rehearsal server") }
        name = "opsctl_rehearse_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        do {
            try admin.execute("CREATE DATABASE \(quoteIdentifier(name))")
        } catch let e as PostgresError {
            throw MigrationError(.connection, "cannot create a scratch database: \(e.message)", sqlState: e.sqlState,
                                 nextStep: "rehearse needs a role with CREATEDB, or use the sandbox (`opsctl sandbox up`)")
        }
        dsn = DSN.withDatabase(serverDSN, name)
    }

    func drop() {
        _ = try? admin.execute("DROP DATABASE IF EXISTS \(quoteIdentifier(name)) WITH (FORCE)")
        admin.close()
    }
}

/// Rewrites the database name of a URL or keyword DSN.
enum DSN {
    static func withDatabase(_ dsn: String, _ database: String) -> String {
        guard let scheme = dsn.range(of: "://") else {
            return dsn + " dbname='\(database)'"
        }
        let afterScheme = dsn[scheme.upperBound...]
        let queryStart = afterScheme.firstIndex(of: "?") ?? dsn.endIndex
        let authority = dsn[scheme.upperBound..<queryStart]
        let pathStart = authority.firstIndex(of: "/") ?? queryStart
        return String(dsn[..<pathStart]) + "/" + database + String(dsn[queryStart...])
    }
}
