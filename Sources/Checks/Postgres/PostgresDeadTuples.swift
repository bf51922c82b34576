import Foundation
import Postgres

/// Dead tuples as a share of each table's rows: what (auto)vacuum has not yet cleaned.
public struct PostgresDeadTuples: StepKind {
    public static let name = "postgres.dead_tuples"
    public static let summary = "Dead tuples per table as % of its rows (vacuum falling behind)"
    public static let parameters: [ParameterSpec] = [
        Catalog.database,
        .init("min_rows", .int, default: 1000, "tables with fewer live + dead rows are not judged"),
        .init("warn", .number, default: 20, "dead-tuple percent at or above which the step warns"),
        .init("crit", .number, default: 40, "dead-tuple percent at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: dead-tuples
          kind: postgres.dead_tuples
          with: { min_rows: 1000, warn: 20, crit: 40 }
        """

    let variable: String?
    let minRows: Int
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        minRows = try p.int("min_rows", default: 1000)
        thresholds = try p.thresholds("", warn: 20, crit: 40)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let rows = try context.catalogReadOnly(variable: variable) { db in
            try db.query("""
                SELECT schemaname AS schema, relname AS name, n_live_tup::float8 AS live, n_dead_tup::float8 AS dead,
                       greatest(last_vacuum, last_autovacuum) AS last_vacuum
                  FROM pg_stat_user_tables WHERE n_live_tup + n_dead_tup >= $1
                """, [minRows]).rows
        }
        let findings = rows.map { r in
            let live = r["live"].double ?? 0, dead = r["dead"].double ?? 0
            return Catalog.Finding(name: Catalog.qualified(r, "name"), value: dead / Swift.max(live + dead, 1) * 100,
                                   details: ["live": .int(Int(live)), "dead": .int(Int(dead)),
                                             "last_vacuum": r["last_vacuum"].string.map(JSONValue.string) ?? .null])
        }
        return Catalog.worst(findings, thresholds: thresholds, metric: "dead_tuples", unit: "%", noun: "table",
                             none: "no table with \(minRows) rows or more", max: 100) { "\(Catalog.percent($0)) dead tuples" }
    }
}
