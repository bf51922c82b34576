import Foundation
import Postgres

extension Migrator {
    /// Adopts an existing database: records every migration up to `version` as applied without running it.
    /// With `importFrom` (another runner's history table, e.g. `public.migrations`), the versions listed there
    /// (leading integer of column `column`, or the trailing one as in TypeORM's `AddX1718000000000` names) are
    /// recorded instead, up to `version` when given. When `column` is the default `version` and the table has
    /// none but has TypeORM's `timestamp` and `name` columns, TypeORM's `timestamp` is read.
    /// Returns the versions recorded.
    @discardableResult
    public func baseline(version: Int64?, importFrom legacy: String? = nil, column: String = "version") throws -> [Int64] {
        let set = try files()
        guard version != nil || legacy != nil else {
            throw MigrationError(.invalidInput, "baseline needs --version N or a table to import from")
        }
        return try withLock { db in
            var versions = Set(set.migrations.map(\.version).filter { v in version.map { v <= $0 } ?? true })
            if let legacy {
                let table = try HistoryTable(legacy)
                guard try table.exists(db) else {
                    throw MigrationError(.invalidInput, "table \(legacy) does not exist: nothing to import")
                }
                let source = try Self.importColumn(db, table, requested: column)
                let rows = try db.query("SELECT \(quoteIdentifier(source))::text AS v FROM \(table.qualified)").rows
                let imported = Set(rows.compactMap { r in r["v"].string.flatMap(Self.importedVersion) })
                versions = versions.intersection(imported)
            }
            let existing = Set(try history.entries(db).map(\.version))
            var recorded: [Int64] = []
            for m in set.migrations where versions.contains(m.version) && !existing.contains(m.version) {
                try history.record(db, m, state: .applied, durationMs: nil, statementsDone: 0, statementsTotal: nil,
                                   by: "baseline:" + HistoryTable.operatorName)
                recorded.append(m.version)
            }
            try history.event(db, version: version, action: "baseline",
                              detail: "recorded \(recorded.count) version(s)" + (legacy.map { " imported from \($0)" } ?? ""))
            return recorded
        }
    }
}

extension Migrator {
    /// The column to read versions from: the one asked for when the table has it; for the default `version`,
    /// TypeORM's `timestamp` when the table is TypeORM's history (`id, timestamp, name`).
    static func importColumn(_ db: PostgresConnection, _ table: HistoryTable, requested: String) throws -> String {
        let columns = try db.query("""
            SELECT attname AS name FROM pg_attribute
             WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum
            """, [table.qualified]).rows.compactMap { $0["name"].string }
        if columns.contains(requested) { return requested }
        if requested == "version" && columns.contains("timestamp") && columns.contains("name") { return "timestamp" }
        throw MigrationError(.invalidInput, "table \(table.displayName) has no column \(requested) (columns: \(columns.joined(separator: ", "))): "
                             + "name the one holding the versions with --column")
    }

    /// `001_a.sql` → 1, `1718000000000` → 1718000000000, TypeORM's `AddWhopWebhookLogTable1718000000001` → 1718000000001.
    static func importedVersion(_ text: String) -> Int64? {
        let base = (text as NSString).lastPathComponent
        let leading = base.prefix { $0.isNumber }
        if !leading.isEmpty { return Int64(leading) }
        let trailing = String(base.reversed().prefix { $0.isNumber }.reversed())
        return trailing.isEmpty ? nil : Int64(trailing)
    }
}
