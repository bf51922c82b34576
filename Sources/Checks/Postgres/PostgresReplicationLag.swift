import Foundation
import Postgres

/// Replay lag of each replica (on a primary) or of this server (on a standby), in bytes and seconds.
/// A WAL receiver that does not replay (pg_receivewal, an archiver) is measured by what it flushed.
public struct PostgresReplicationLag: StepKind {
    public static let name = "postgres.replication_lag"
    public static let summary = "Replication lag in bytes and seconds (each replica on a primary, or this standby); ok when there are no replicas"
    public static let parameters: [ParameterSpec] = [Catalog.database]
        + Catalog.byteLimits("lag in bytes", warn: 16_777_216, crit: 1_073_741_824) + [
        .init("warn", .duration, default: "30s", "replay lag at or above which the step warns"),
        .init("crit", .duration, default: "5m", "replay lag at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: replication-lag
          kind: postgres.replication_lag
          with: { warn_bytes: 16777216, crit_bytes: 1073741824, warn: 30s, crit: 5m }
        """

    let variable: String?
    let bytes: Thresholds
    let seconds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        bytes = try Catalog.byteThresholds(p, warn: 16_777_216, crit: 1_073_741_824)
        seconds = Thresholds(warn: try p.duration("warn", default: 30), crit: try p.duration("crit", default: 300))
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let (standby, rows) = try context.catalogReadOnly(variable: variable) { db -> (Bool, [Postgres.Row]) in
            if try db.query("SELECT pg_is_in_recovery() AS r").first?["r"].bool == true {
                return (true, try db.query("""
                    SELECT 'this standby' AS name, coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)::float8 AS lag_s,
                           coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::float8 AS lag_bytes,
                           'streaming' AS state
                    """).rows)
            }
            return (false, try db.query("""
                SELECT coalesce(nullif(application_name, ''), client_addr::text, pid::text) AS name, state,
                       coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), coalesce(replay_lsn, flush_lsn)), 0)::float8 AS lag_bytes,
                       coalesce(extract(epoch FROM replay_lag), 0)::float8 AS lag_s
                  FROM pg_stat_replication
                """).rows)
        }
        let byteMetric = { (v: Double) in bytes.metric("replication_lag_bytes", v, unit: "B", min: 0) }
        let secondMetric = { (v: Double) in seconds.metric("replication_lag", v, unit: "s", min: 0) }
        if rows.isEmpty {
            return .ok("no replicas connected (pg_stat_replication is empty): nothing lags", details: ["replicas": .array([])],
                       metrics: [byteMetric(0), secondMetric(0)])
        }
        let replicas: [JSONValue] = rows.map { r in
            .object(["name": .string(r["name"].string ?? ""), "state": .string(r["state"].string ?? ""),
                     "lag_bytes": .int(r["lag_bytes"].int ?? 0), "lag_s": .double(r["lag_s"].double ?? 0),
                     "status": .string(StepStatus.worst([bytes.status(for: r["lag_bytes"].double ?? 0), seconds.status(for: r["lag_s"].double ?? 0)]).rawValue)])
        }
        let maxBytes = rows.compactMap { $0["lag_bytes"].double }.max() ?? 0
        let maxSeconds = rows.compactMap { $0["lag_s"].double }.max() ?? 0
        let status = StepStatus.worst([bytes.status(for: maxBytes), seconds.status(for: maxSeconds)])
        let subject = standby ? "this standby lags" : "\(rows.count) replica(s); worst lag"
        return .init(status, "\(subject) \(Catalog.bytes(maxBytes)) / \(Catalog.age(maxSeconds))",
                     details: ["replicas": .array(replicas), "standby": .bool(standby)],
                     metrics: [byteMetric(maxBytes), secondMetric(maxSeconds)])
    }
}
