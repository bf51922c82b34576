import Foundation
import Postgres

/// Indexes with the same table, columns, operator classes, expressions and predicate: all but one are waste.
public struct PostgresDuplicateIndexes: StepKind {
    public static let name = "postgres.duplicate_indexes"
    public static let summary = "Sets of identical indexes on the same table (same columns, opclasses, expressions, predicate)"
    public static let parameters: [ParameterSpec] = [
        Catalog.database,
        .init("warn", .int, default: 1, "sets of duplicates at or above which the step warns"),
        .init("crit", .int, default: 5, "sets of duplicates at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: duplicate-indexes
          kind: postgres.duplicate_indexes
          with: { warn: 1, crit: 5 }
        """

    let variable: String?
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        thresholds = try p.thresholds("", warn: 1, crit: 5)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let rows = try context.catalogReadOnly(variable: variable) { db in
            try db.query("""
                SELECT n.nspname AS schema, tc.relname AS table_name,
                       string_agg(ic.relname, ', ' ORDER BY x.indisprimary DESC, x.indisunique DESC, ic.relname) AS indexes,
                       sum(pg_relation_size(ic.oid))::float8 AS bytes
                  FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid JOIN pg_class tc ON tc.oid = x.indrelid
                  JOIN pg_namespace n ON n.oid = tc.relnamespace
                 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
                 GROUP BY n.nspname, tc.relname, x.indrelid, ic.relam, x.indkey::text, x.indclass::text, x.indcollation::text,
                          coalesce(pg_get_expr(x.indexprs, x.indrelid), ''), coalesce(pg_get_expr(x.indpred, x.indrelid), '')
                HAVING count(*) > 1 ORDER BY 4 DESC
                """).rows
        }
        let items = rows.map { r -> [String: JSONValue] in
            ["table": .string(Catalog.qualified(r, "table_name")), "indexes": .string(r["indexes"].string ?? ""),
             "bytes": .int(r["bytes"].int ?? 0)]
        }
        return Catalog.counted(items, names: rows.map { "\(Catalog.qualified($0, "table_name")) (\($0["indexes"].string ?? ""))" },
                               thresholds: thresholds, metric: "duplicate_index_sets", noun: "duplicate index set",
                               none: "no duplicate indexes")
    }
}
