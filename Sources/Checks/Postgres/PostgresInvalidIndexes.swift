import Foundation
import Postgres

/// Indexes marked invalid (a failed CREATE INDEX CONCURRENTLY or REINDEX): writes still maintain them, no query uses them.
public struct PostgresInvalidIndexes: StepKind {
    public static let name = "postgres.invalid_indexes"
    public static let summary = "Invalid indexes left by a failed CREATE INDEX / REINDEX CONCURRENTLY"
    public static let parameters: [ParameterSpec] = [
        Catalog.database,
        .init("warn", .int, default: 1, "invalid indexes at or above which the step warns"),
        .init("crit", .int, default: 3, "invalid indexes at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: invalid-indexes
          kind: postgres.invalid_indexes
          with: { warn: 1, crit: 3 }
        """

    let variable: String?
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        thresholds = try p.thresholds("", warn: 1, crit: 3)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let rows = try context.catalogReadOnly(variable: variable) { db in
            try db.query("""
                SELECT n.nspname AS schema, ic.relname AS name, tc.relname AS table_name, pg_relation_size(ic.oid) AS bytes,
                       pg_get_indexdef(ic.oid) AS definition
                  FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid JOIN pg_class tc ON tc.oid = x.indrelid
                  JOIN pg_namespace n ON n.oid = ic.relnamespace
                 WHERE NOT x.indisvalid ORDER BY 1, 2
                """).rows
        }
        let items = rows.map { r -> [String: JSONValue] in
            ["index": .string(Catalog.qualified(r, "name")), "table": .string(r["table_name"].string ?? ""),
             "bytes": .int(r["bytes"].int ?? 0), "definition": .string(r["definition"].string ?? "")]
        }
        return Catalog.counted(items, names: rows.map { Catalog.qualified($0, "name") }, thresholds: thresholds,
                               metric: "invalid_indexes", noun: "invalid index", none: "no invalid indexes")
    }
}
