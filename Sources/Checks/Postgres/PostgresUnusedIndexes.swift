import Foundation
import Postgres

/// Indexes never scanned since the statistics were reset: they cost every write and buy nothing.
public struct PostgresUnusedIndexes: StepKind {
    public static let name = "postgres.unused_indexes"
    public static let summary = "Indexes with no scans since the statistics were reset, above a size floor (unique and constraint indexes excluded)"
    public static let parameters: [ParameterSpec] = [
        Catalog.database,
        .init("min_size", .number, default: 1_048_576, "indexes smaller than this many bytes are not reported"),
        .init("warn", .int, default: 1, "unused indexes at or above which the step warns"),
        .init("crit", .int, default: 10, "unused indexes at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: unused-indexes
          kind: postgres.unused_indexes
          with: { min_size: 1048576, warn: 1, crit: 10 }
        """

    let variable: String?
    let minSize: Double
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        minSize = try p.double("min_size", default: 1_048_576)
        thresholds = try p.thresholds("", warn: 1, crit: 10)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let (rows, reset) = try context.catalogReadOnly(variable: variable) { db in
            (try db.query("""
                SELECT s.schemaname AS schema, s.indexrelname AS name, s.relname AS table_name,
                       pg_relation_size(s.indexrelid) AS bytes
                  FROM pg_stat_user_indexes s JOIN pg_index x ON x.indexrelid = s.indexrelid
                 WHERE s.idx_scan = 0 AND x.indisvalid AND NOT x.indisunique AND NOT x.indisprimary
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = s.indexrelid)
                   AND pg_relation_size(s.indexrelid) >= $1::float8
                 ORDER BY 4 DESC
                """, [minSize]).rows,
             try db.query("SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()").first?["stats_reset"].string)
        }
        let items = rows.map { r -> [String: JSONValue] in
            ["index": .string(Catalog.qualified(r, "name")), "table": .string(r["table_name"].string ?? ""), "bytes": .int(r["bytes"].int ?? 0)]
        }
        var outcome = Catalog.counted(items, names: rows.map { Catalog.qualified($0, "name") + " (\(Catalog.bytes($0["bytes"].double ?? 0)))" },
                                      thresholds: thresholds, metric: "unused_indexes", noun: "unused index",
                                      none: "no unused index of \(Catalog.bytes(minSize)) or more")
        outcome.details["stats_reset"] = reset.map(JSONValue.string) ?? .null
        outcome.metrics.append(Metric(name: "unused_index_bytes", value: rows.compactMap { $0["bytes"].double }.reduce(0, +), unit: "B", min: 0))
        return outcome
    }
}
