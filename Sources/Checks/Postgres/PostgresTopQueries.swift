import Foundation
import Postgres

/// The heaviest statements from pg_stat_statements, by total or mean time, optionally filtered.
public struct PostgresTopQueries: StepKind {
    public static let name = "postgres.top_queries"
    public static let summary = "Top-N statements from pg_stat_statements by total or mean time (skipped when the extension is absent)"
    public static let parameters: [ParameterSpec] = [
        Catalog.database,
        .init("order_by", .string, default: "total", "total or mean execution time"),
        .init("limit", .int, default: 10, "how many statements to list"),
        .init("filter", .string, "a LIKE pattern the statement text must match, e.g. %whop%"),
        .init("warn", .duration, default: "500ms", "mean time of a listed statement at or above which the step warns"),
        .init("crit", .duration, default: "2s", "mean time of a listed statement at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: top-queries
          kind: postgres.top_queries
          with: { order_by: total, limit: 10, filter: "%webhook%", warn: 500ms, crit: 2s }
        """

    let variable: String?
    let orderBy: String
    let limit: Int
    let filter: String?
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        orderBy = try p.string("order_by", default: "total")
        guard ["total", "mean"].contains(orderBy) else {
            throw StepError("step '\(p.stepID)': parameter 'order_by' must be total or mean, got \(orderBy)")
        }
        limit = try p.int("limit", default: 10)
        filter = try p.nonEmptyString("filter")
        thresholds = try p.thresholds("", durations: true, warn: 500, crit: 2000)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let result = try context.catalogReadOnly(variable: variable) { db -> (String?, [Postgres.Row]) in
            guard let schema = try db.query("""
                SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                 WHERE e.extname = 'pg_stat_statements'
                """).first?["schema"].string else {
                return ("pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements)", [])
            }
            // Reading the view without the library preloaded is an error that would abort the transaction.
            let preload = try db.query("SELECT current_setting('shared_preload_libraries') AS s").first?["s"].string ?? ""
            guard preload.contains("pg_stat_statements") else {
                return ("pg_stat_statements is installed but not in shared_preload_libraries (add it and restart Postgres)", [])
            }
            let view = quoteIdentifier(schema) + ".pg_stat_statements"
            return (nil, try db.query("""
                SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 300) AS query, calls, total_exec_time::float8 AS total_ms,
                       mean_exec_time::float8 AS mean_ms, rows, queryid::text AS queryid
                  FROM \(view)
                 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND ($1::text IS NULL OR query LIKE $1::text)
                 ORDER BY \(orderBy == "mean" ? "mean_exec_time" : "total_exec_time") DESC LIMIT $2::int
                """, [filter, limit]).rows)
        }
        if let reason = result.0 { return .init(.skipped, "skipped: \(reason)") }
        let rows = result.1
        let statements: [JSONValue] = rows.map { r in
            .object(["query": .string(r["query"].string ?? ""), "calls": .int(r["calls"].int ?? 0),
                     "total_ms": .double(((r["total_ms"].double ?? 0) * 100).rounded() / 100),
                     "mean_ms": .double(((r["mean_ms"].double ?? 0) * 100).rounded() / 100), "rows": .int(r["rows"].int ?? 0),
                     "queryid": .string(r["queryid"].string ?? "")])
        }
        let worstMean = rows.compactMap { $0["mean_ms"].double }.max() ?? 0
        let metric = thresholds.metric("top_query_mean", worstMean, unit: "ms", min: 0)
        let scope = filter.map { " matching '\($0)'" } ?? ""
        guard let top = rows.first else {
            return .ok("no statements\(scope) recorded in pg_stat_statements", details: ["statements": .array([])], metrics: [metric])
        }
        let message = "top \(rows.count) statement(s)\(scope) by \(orderBy) time; slowest mean \(String(format: "%.1f", worstMean)) ms; first: "
            + String((top["query"].string ?? "").prefix(80))
        return .init(thresholds.status(for: worstMean), message, details: ["statements": .array(statements), "order_by": .string(orderBy)],
                     metrics: [metric, Metric(name: "top_query_total", value: top["total_ms"].double ?? 0, unit: "ms", min: 0)])
    }
}
