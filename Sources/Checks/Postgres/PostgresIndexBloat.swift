import Foundation
import Postgres

/// Estimated B-tree index bloat from statistics: the index's pages against the pages its
/// entries need at the key columns' average width.
public struct PostgresIndexBloat: StepKind {
    public static let name = "postgres.index_bloat"
    public static let summary = "Estimated B-tree index bloat (% of the index that is empty space), from pg_class and pg_stats"
    public static let parameters: [ParameterSpec] = [
        Catalog.database,
        .init("min_size", .number, default: 10_485_760, "indexes smaller than this many bytes are not judged"),
        .init("warn", .number, default: 50, "bloat percent at or above which the step warns"),
        .init("crit", .number, default: 75, "bloat percent at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: index-bloat
          kind: postgres.index_bloat
          with: { min_size: 10485760 }
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
        // Entry = 8-byte tuple header + key width (8-byte aligned) + 4-byte line pointer; a leaf page
        // holds (block_size - 24 - 16) * fillfactor (default 90) of them, plus the meta page.
        let rows = try context.catalogReadOnly(variable: variable) { db in
            try db.query("""
                WITH i AS (
                  SELECT n.nspname AS schema, ic.relname AS name, tc.relname AS table_name, ic.reltuples::float8 AS tuples,
                         pg_relation_size(ic.oid)::float8 AS bytes, current_setting('block_size')::float8 AS bs,
                         coalesce((SELECT sum(s.avg_width) FROM pg_attribute a
                                     JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = tc.relname
                                                    AND s.attname = a.attname AND NOT s.inherited
                                    WHERE a.attrelid = tc.oid AND a.attnum = ANY (string_to_array(x.indkey::text, ' ')::int2[])), 0)::float8 AS width,
                         coalesce((SELECT substring(o FROM 'fillfactor=([0-9]+)')::float8 FROM unnest(ic.reloptions) o
                                    WHERE o LIKE 'fillfactor=%' LIMIT 1), 90) AS ff
                    FROM pg_index x
                    JOIN pg_class ic ON ic.oid = x.indexrelid
                    JOIN pg_class tc ON tc.oid = x.indrelid
                    JOIN pg_namespace n ON n.oid = ic.relnamespace
                    JOIN pg_am am ON am.oid = ic.relam
                   WHERE am.amname = 'btree' AND x.indisvalid AND ic.reltuples >= 0 AND x.indexprs IS NULL
                     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
                     AND pg_relation_size(ic.oid) >= $1::float8)
                SELECT schema, name, table_name, bytes,
                       greatest(0, bytes - bs * (1 + ceil(tuples * (12 + ceil(width / 8) * 8) / ((bs - 40) * ff / 100)))) AS bloat_bytes
                  FROM i WHERE bytes > 0
                """, [minSize]).rows
        }
        let findings = rows.map { r in
            let bytes = r["bytes"].double ?? 0, bloat = r["bloat_bytes"].double ?? 0
            return Catalog.Finding(name: Catalog.qualified(r, "name"), value: bloat / Swift.max(bytes, 1) * 100,
                                   details: ["table": .string(r["table_name"].string ?? ""), "size_bytes": .int(Int(bytes)),
                                             "bloat_bytes": .int(Int(bloat))])
        }
        return Catalog.worst(findings, thresholds: thresholds, metric: "index_bloat", unit: "%", noun: "index",
                             none: "no analyzed B-tree index of \(Catalog.bytes(minSize)) or more", max: 100) {
            "\(Catalog.percent($0)) estimated bloat"
        }
    }
}
