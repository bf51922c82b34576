import Foundation
import Postgres

/// What a manifest records about a database, and what verify and restore compare against it.
enum BackupFacts {
    /// The tables whose rows a manifest counts: the service's event table (from its profile) and
    /// the `count_tables` of opsctl.yaml's `backups:` block.
    static func countedTables(_ context: StepContext, extra: [String]) -> [String] {
        var tables = context.service.events.map { [$0.table] } ?? []
        for table in extra where !tables.contains(table) { tables.append(table) }
        return tables
    }

    static func schemaVersion(_ db: PostgresConnection, historyTable: String) throws -> Int64? {
        guard try db.query("SELECT to_regclass($1) IS NOT NULL AS present", [historyTable]).first?["present"].bool == true else {
            return nil
        }
        let table = quoteQualifiedName(historyTable)
        // opsctl's own history has a status; a history adopted from another runner may not.
        let hasStatus = try db.query("""
            SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'status' AND NOT attisdropped) AS s
            """, [historyTable]).first?["s"].bool ?? false
        let sql = "SELECT max(version)::bigint AS v FROM \(table)" + (hasStatus ? " WHERE status = 'applied'" : "")
        return try db.query(sql).first?["v"].int.map(Int64.init)
    }

    /// Exact row counts; a table that does not exist has no entry.
    static func rowCounts(_ db: PostgresConnection, tables: [String]) throws -> [String: Int64] {
        var counts: [String: Int64] = [:]
        for table in tables {
            guard try db.query("SELECT to_regclass($1) IS NOT NULL AS present", [table]).first?["present"].bool == true else { continue }
            counts[table] = try db.query("SELECT count(*)::bigint AS n FROM \(quoteQualifiedName(table))").first?["n"].int.map(Int64.init) ?? 0
        }
        return counts
    }

    /// An invariant from opsctl.yaml: a query returning how many rows break it (0 holds).
    struct Invariant: Sendable {
        var name: String
        var sql: String
    }

    static func invariants(_ p: StepParameters) throws -> [Invariant] {
        guard let list = p["invariants"] else { return [] }
        guard let items = list.array else { throw StepError("step '\(p.stepID)': invariants must be a list of {name, sql}") }
        return try items.map { item in
            guard let name = item["name"]?.string, let sql = item["sql"]?.string else {
                throw StepError("step '\(p.stepID)': each invariant needs name and sql")
            }
            return Invariant(name: name, sql: sql)
        }
    }

    /// Compares a restored database with its manifest; returns the problems found (empty: it matches).
    static func compare(_ db: PostgresConnection, with manifest: BackupManifest, historyTable: String,
                        invariants: [Invariant]) throws -> (problems: [String], checked: [String]) {
        var problems: [String] = [], checked: [String] = []
        let counts = try rowCounts(db, tables: manifest.rowCounts.keys.sorted())
        for (table, expected) in manifest.rowCounts.sorted(by: { $0.key < $1.key }) {
            guard let found = counts[table] else { problems.append("table \(table) is missing (manifest: \(expected) rows)"); continue }
            if found != expected { problems.append("\(table): \(found) rows, manifest says \(expected)") } else { checked.append("\(table) \(found)") }
        }
        let version = try schemaVersion(db, historyTable: historyTable)
        if version != manifest.schemaVersion {
            problems.append("schema version \(version.map(String.init) ?? "none"), manifest says \(manifest.schemaVersion.map(String.init) ?? "none")")
        } else if let version {
            checked.append("schema \(version)")
        }
        problems += try broken(db, invariants)
        return (problems, checked)
    }

    static func broken(_ db: PostgresConnection, _ invariants: [Invariant]) throws -> [String] {
        try invariants.compactMap { invariant in
            let value = try db.query(invariant.sql).first?[0]
            let count = value?.int ?? (value?.bool == false ? 1 : 0)
            return count == 0 ? nil : "invariant '\(invariant.name)' broken by \(count) row(s)"
        }
    }
}
