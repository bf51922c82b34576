import Foundation
import Postgres

/// Share of table block reads served from shared buffers.
public struct PostgresCacheHitTables: StepKind {
    public static let name = "postgres.cache_hit_tables"
    public static let summary = "Buffer cache hit ratio of table reads (% from shared buffers); low means the working set outgrew memory"
    public static let parameters = CacheHit.parameters
    public static let mutates = false
    public static let example = """
        - id: cache-hit-tables
          kind: postgres.cache_hit_tables
          with: { warn: 95, crit: 90, min_blocks: 1000 }
        """

    let check: CacheHit

    public init(_ p: StepParameters) throws { check = try CacheHit(p) }

    public func run(_ context: StepContext) throws -> StepOutcome {
        try check.run(context, view: "pg_statio_user_tables", hit: "heap_blks_hit", read: "heap_blks_read", name: "relname", what: "table")
    }
}

/// Share of index block reads served from shared buffers.
public struct PostgresCacheHitIndexes: StepKind {
    public static let name = "postgres.cache_hit_indexes"
    public static let summary = "Buffer cache hit ratio of index reads (% from shared buffers)"
    public static let parameters = CacheHit.parameters
    public static let mutates = false
    public static let example = """
        - id: cache-hit-indexes
          kind: postgres.cache_hit_indexes
          with: { warn: 95, crit: 90 }
        """

    let check: CacheHit

    public init(_ p: StepParameters) throws { check = try CacheHit(p) }

    public func run(_ context: StepContext) throws -> StepOutcome {
        try check.run(context, view: "pg_statio_user_indexes", hit: "idx_blks_hit", read: "idx_blks_read", name: "indexrelname", what: "index")
    }
}

/// Shared by the two cache-hit kinds: smaller is worse (`below`), and too few reads say nothing.
struct CacheHit: Sendable {
    static let parameters: [ParameterSpec] = [
        Catalog.database,
        .init("warn", .number, default: 95, "hit ratio (%) at or below which the step warns"),
        .init("crit", .number, default: 90, "hit ratio (%) at or below which the step fails"),
        .init("min_blocks", .int, default: 1000, "with fewer block accesses since the stats reset the ratio is not judged"),
    ]

    let variable: String?
    let thresholds: Thresholds
    let minBlocks: Int

    init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        thresholds = try p.thresholds("", direction: .below, warn: 95, crit: 90)
        minBlocks = try p.int("min_blocks", default: 1000)
    }

    func run(_ context: StepContext, view: String, hit: String, read: String, name: String, what: String) throws -> StepOutcome {
        let (total, worst) = try context.catalogReadOnly(variable: variable) { db in
            (try db.query("SELECT coalesce(sum(\(hit)), 0)::float8 AS hit, coalesce(sum(\(read)), 0)::float8 AS read FROM \(view)").first,
             try db.query("""
                SELECT schemaname AS schema, \(name) AS name, \(hit)::float8 AS hit, \(read)::float8 AS read FROM \(view)
                 WHERE \(read) > 0 ORDER BY \(read) DESC LIMIT 10
                """).rows)
        }
        let hits = total?["hit"].double ?? 0, reads = total?["read"].double ?? 0
        let ratio = hits + reads > 0 ? hits / (hits + reads) * 100 : 100
        let details: [String: JSONValue] = [
            "blocks_hit": .int(Int(hits)), "blocks_read": .int(Int(reads)),
            "most_read": .array(worst.map { r in
                let h = r["hit"].double ?? 0, d = r["read"].double ?? 0
                return .object(["name": .string(Catalog.qualified(r, "name")), "blocks_read": .int(Int(d)),
                                "hit_ratio": .double((h / Swift.max(h + d, 1) * 10_000).rounded() / 100)])
            }),
        ]
        let metric = thresholds.metric("\(what)_cache_hit", ratio, unit: "%", min: 0, max: 100)
        if hits + reads < Double(minBlocks) {
            return .ok("only \(Int(hits + reads)) \(what) block access(es) since the stats reset (fewer than \(minBlocks)): too few to judge",
                       details: details, metrics: [metric])
        }
        return .init(thresholds.status(for: ratio), "\(what) cache hit ratio \(Catalog.percent(ratio)) (\(Int(reads)) block(s) read from disk)",
                     details: details, metrics: [metric])
    }
}
