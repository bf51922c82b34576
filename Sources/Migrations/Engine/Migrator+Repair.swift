import Foundation
import Postgres

/// What is known about a failed or partial migration, to decide how to repair it.
public struct RepairEvidence: Sendable {
    public var version: Int64
    public var file: String?
    public var entry: HistoryEntry?
    /// The statement that failed, with its location.
    public var failingStatement: String?
    public var failingLocation: SourceLocation?
    /// Objects the migration creates and whether each exists now.
    public var objects: [(object: SchemaObject, exists: Bool)]
    /// Indexes left INVALID by a failed CREATE INDEX CONCURRENTLY.
    public var invalidIndexes: [String]
    /// What to do next.
    public var suggestion: String

    /// Human-readable lines.
    public var lines: [String] {
        var out = ["version \(version)" + (file.map { " (\($0))" } ?? "") + ": " + (entry.map { $0.state.rawValue } ?? "not in history")]
        if let e = entry {
            if let total = e.statementsTotal { out.append("statements completed: \(e.statementsDone) of \(total)") }
            if let error = e.error { out.append("error: \(error)") }
            if let s = e.sqlState { out.append("SQLSTATE: \(s)") }
        }
        if let failingStatement { out.append("failing statement" + (failingLocation.map { " at \($0)" } ?? "") + ": \(failingStatement)") }
        for o in objects { out.append("\(o.exists ? "exists " : "MISSING") \(o.object)") }
        for i in invalidIndexes { out.append("INVALID index \(i) (left by a failed CONCURRENTLY build)") }
        out.append("next: \(suggestion)")
        return out
    }
}

extension Migrator {
    /// Evidence for `migrate repair V`: history row, failing statement, which objects exist.
    public func evidence(version: Int64) throws -> RepairEvidence {
        let set = try files()
        let db = try connect()
        defer { db.close() }
        let entry = try guarded("reading history") { try history.entries(db).first { $0.version == version } }
        let m = set.migration(version)
        var ev = RepairEvidence(version: version, file: m?.upFile, entry: entry, failingStatement: nil, failingLocation: nil,
                                objects: [], invalidIndexes: [], suggestion: "")
        if let m, let script = try? Self.script(m) {
            if let i = entry?.errorStatement, i < script.statements.count {
                ev.failingStatement = script.statements[i].summary
                ev.failingLocation = script.statements[i].location
            }
            let created = SchemaEffects(script.statements).created
            let missing = Set(try guarded("checking objects") { try ObjectVerifier.missing(created, db) })
            ev.objects = created.map { ($0, !missing.contains($0)) }
        }
        ev.invalidIndexes = try guarded("checking indexes") {
            try db.query("""
                SELECT i.indexrelid::regclass::text AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1
                """).rows.compactMap { $0["name"].string }
        }
        let allExist = !ev.objects.isEmpty && ev.objects.allSatisfy(\.exists)
        let noneExist = ev.objects.allSatisfy { !$0.exists }
        switch entry?.state {
        case .none: ev.suggestion = "not in history: nothing to repair"
        case .applied?: ev.suggestion = "applied: nothing to repair"
        case .failed?, .partial?:
            if allExist {
                ev.suggestion = "every object exists: finish any remaining statements by hand, then `--mark-applied \(version)`"
            } else if noneExist && ev.invalidIndexes.isEmpty {
                ev.suggestion = "none of its objects exist: fix the file and apply again, or `--mark-rolled-back \(version)` to clear the entry"
            } else {
                ev.suggestion = "some objects exist: complete them by hand and `--mark-applied \(version)`, or undo them and `--mark-rolled-back \(version)`"
                    + (ev.invalidIndexes.isEmpty ? "" : "; drop invalid indexes with DROP INDEX CONCURRENTLY first")
            }
        }
        return ev
    }

    /// Records `version` as applied (after an operator completed it by hand), journaled with `reason`.
    public func markApplied(version: Int64, reason: String = "") throws {
        let set = try files()
        guard let m = set.migration(version) else {
            throw MigrationError(.invalidInput, "no migration file for version \(version)")
        }
        try withLock { db in
            try history.record(db, m, state: .applied, durationMs: nil, statementsDone: 0, statementsTotal: nil)
            try history.event(db, version: version, action: "repair-mark-applied", detail: reason.isEmpty ? nil : reason)
        }
    }

    /// Removes `version` from history (after an operator undid it by hand), journaled with `reason`.
    public func markRolledBack(version: Int64, reason: String = "") throws {
        try withLock { db in
            try history.delete(db, version: version)
            try history.event(db, version: version, action: "repair-mark-rolled-back", detail: reason.isEmpty ? nil : reason)
        }
    }

    /// Runs `body` on a connection while holding the migration lock, with the history table present.
    func withLock<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let db = try connect()
        defer { db.close() }
        let lock = try MigrationLock(dsn: dsn, table: history, applicationName: config.applicationName)
        defer { lock.release() }
        try lock.acquire(timeout: config.lockWait, cancellation: cancellation)
        return try guarded("updating \(history.displayName)") {
            try history.ensure(db)
            return try body(db)
        }
    }
}
