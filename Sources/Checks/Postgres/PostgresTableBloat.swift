import Foundation
import Postgres

/// Estimated table bloat from planner statistics (no pgstattuple): the pages a table has against
/// the pages its live rows need at their average width.
public struct PostgresTableBloat: StepKind {
    public static let name = "postgres.table_bloat"
    public static let summary = "Estimated table bloat (% of the table that is dead space), from pg_class and pg_stats"
    public static let parameters: [ParameterSpec] = [
        Catalog.database,
        .init("min_size", .number, default: 10_485_760, "tables smaller than this many bytes are not judged"),
        .init("warn", .number, default: 50, "bloat percent at or above which the step warns"),
        .init("crit", .number, default: 75, "bloat percent at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: table-bloat
          kind: postgres.table_bloat
          with: { min_size: 10485760, warn: 50, crit: 75 }
        """

    let variable: String?
    let minSize: Double
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        minSize = try p.double("min_size", default: 10_485_760)
        thresholds = try p.thresholds("", warn: 50, crit: 75)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        // Row = 24-byte header + data at its average width (8-byte aligned) + 4-byte line pointer;
        // a page holds (block_size - 24) * fillfactor of them. Tables never analyzed have no estimate.
        let rows = try context.catalogReadOnly(variable: variable) { db in
            try db.query("""
                WITH t AS (
                  SELECT n.nspname AS schema, c.relname AS name, c.reltuples::float8 AS tuples,
                         pg_relation_size(c.oid)::float8 AS bytes, current_setting('block_size')::float8 AS bs,
                         coalesce((SELECT sum(s.avg_width) FROM pg_stats s
                                    WHERE s.schemaname = n.nspname AND s.tablename = c.relname AND NOT s.inherited), 0)::float8 AS width,
                         coalesce((SELECT substring(o FROM 'fillfactor=([0-9]+)')::float8 FROM unnest(c.reloptions) o
                                    WHERE o LIKE 'fillfactor=%' LIMIT 1), 100) AS ff
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE c.relkind IN ('r', 'm') AND c.reltuples >= 0
                     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
                     AND pg_relation_size(c.oid) >= $1::float8)
                SELECT schema, name, bytes,
                       greatest(0, bytes - bs * ceil(tuples * (28 + ceil(width / 8) * 8) / ((bs - 24) * ff / 100))) AS bloat_bytes
                  FROM t WHERE bytes > 0
                """, [minSize]).rows
        }
        let findings = rows.map { r in
            let bytes = r["bytes"].double ?? 0, bloat = r["bloat_bytes"].double ?? 0
            return Catalog.Finding(name: Catalog.qualified(r, "name"), value: bloat / Swift.max(bytes, 1) * 100,
                                   details: ["size_bytes": .int(Int(bytes)), "bloat_bytes": .int(Int(bloat))])
        }
        return Catalog.worst(findings, thresholds: thresholds, metric: "table_bloat", unit: "%", noun: "table",
                             none: "no analyzed table of \(Catalog.bytes(minSize)) or more", max: 100) {
            "\(Catalog.percent($0)) estimated bloat"
        }
    }
}
