import Foundation
import Postgres

extension Migrator {
    /// Adopts an existing database: records every migration up to `version` as applied without running it.
    /// With `importFrom` (another runner's history table, e.g. `public.migrations`), the versions listed there
    /// (leading integer of column `column`) are recorded instead, up to `version` when given.
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
                let rows = try db.query("SELECT \(quoteIdentifier(column))::text AS v FROM \(table.qualified)").rows
                let imported = Set(rows.compactMap { r -> Int64? in
                    guard let text = r["v"].string else { return nil }
                    return Int64(String((text as NSString).lastPathComponent.prefix { $0.isNumber }))
                })
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
