import Foundation
import Postgres

/// Checkpoint and WAL pressure: checkpoints forced by WAL volume instead of the timer, and
/// buffers that backends had to write themselves.
public struct PostgresCheckpoints: StepKind {
    public static let name = "postgres.checkpoints"
    public static let summary = "Checkpoint/WAL pressure: % of checkpoints requested (not timed) and % of buffers written by backends"
    public static let parameters: [ParameterSpec] = [
        Catalog.database,
        .init("warn", .number, default: 30, "requested checkpoints (% of all) at or above which the step warns"),
        .init("crit", .number, "requested checkpoints (% of all) at or above which the step fails (none by default: explicit CHECKPOINT and DROP DATABASE count as requested too)"),
        .init("min_checkpoints", .int, default: 10, "with fewer checkpoints since the stats reset the ratio is not judged"),
    ]
    public static let mutates = false
    public static let example = """
        - id: checkpoints
          kind: postgres.checkpoints
          with: { warn: 30 }
        """

    let variable: String?
    let thresholds: Thresholds
    let minCheckpoints: Int

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        thresholds = try p.thresholds("", warn: 30)
        minCheckpoints = try p.int("min_checkpoints", default: 10)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let row = try context.catalogReadOnly(variable: variable) { db in
            // PostgreSQL 17 moved the checkpoint counters to pg_stat_checkpointer and backend writes to pg_stat_io.
            let sql = db.serverVersion.number >= 170_000 ? """
                SELECT c.num_timed::float8 AS timed, c.num_requested::float8 AS requested, c.buffers_written::float8 AS by_checkpoint,
                       b.buffers_clean::float8 AS by_bgwriter,
                       (SELECT coalesce(sum(writes), 0) FROM pg_stat_io WHERE backend_type = 'client backend')::float8 AS by_backend,
                       c.stats_reset, current_setting('checkpoint_timeout') AS checkpoint_timeout, current_setting('max_wal_size') AS max_wal_size
                  FROM pg_stat_checkpointer c, pg_stat_bgwriter b
                """ : """
                SELECT checkpoints_timed::float8 AS timed, checkpoints_req::float8 AS requested, buffers_checkpoint::float8 AS by_checkpoint,
                       buffers_clean::float8 AS by_bgwriter, buffers_backend::float8 AS by_backend, stats_reset,
                       current_setting('checkpoint_timeout') AS checkpoint_timeout, current_setting('max_wal_size') AS max_wal_size
                  FROM pg_stat_bgwriter
                """
            return try db.query(sql).first
        }
        let timed = row?["timed"].double ?? 0, requested = row?["requested"].double ?? 0
        let byCheckpoint = row?["by_checkpoint"].double ?? 0, byBgwriter = row?["by_bgwriter"].double ?? 0, byBackend = row?["by_backend"].double ?? 0
        let requestedShare = timed + requested > 0 ? requested / (timed + requested) * 100 : 0
        let backendShare = byCheckpoint + byBgwriter + byBackend > 0 ? byBackend / (byCheckpoint + byBgwriter + byBackend) * 100 : 0
        let details: [String: JSONValue] = [
            "checkpoints_timed": .int(Int(timed)), "checkpoints_requested": .int(Int(requested)),
            "buffers_checkpoint": .int(Int(byCheckpoint)), "buffers_bgwriter": .int(Int(byBgwriter)), "buffers_backend": .int(Int(byBackend)),
            "stats_reset": row?["stats_reset"].string.map(JSONValue.string) ?? .null,
            "checkpoint_timeout": .string(row?["checkpoint_timeout"].string ?? ""), "max_wal_size": .string(row?["max_wal_size"].string ?? ""),
        ]
        let metrics = [thresholds.metric("requested_checkpoints", requestedShare, unit: "%", min: 0, max: 100),
                       Metric(name: "backend_buffer_writes", value: backendShare, unit: "%", min: 0, max: 100)]
        let summary = "\(Int(requested)) of \(Int(timed + requested)) checkpoint(s) requested (\(Catalog.percent(requestedShare))), backends wrote \(Catalog.percent(backendShare)) of buffers"
        if timed + requested < Double(minCheckpoints) {
            return .ok(summary + " — fewer than \(minCheckpoints) checkpoints since the stats reset: too few to judge", details: details, metrics: metrics)
        }
        return .init(thresholds.status(for: requestedShare), summary, details: details, metrics: metrics)
    }
}
