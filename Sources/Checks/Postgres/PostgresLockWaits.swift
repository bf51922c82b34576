import Foundation
import Postgres

/// Sessions waiting on a lock, with who blocks them.
public struct PostgresLockWaits: StepKind {
    public static let name = "postgres.lock_waits"
    public static let summary = "Sessions waiting on locks, and the pids blocking them"
    public static let parameters: [ParameterSpec] = [
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
        .init("warn", .int, default: 1, "waiting sessions at or above which the step warns"),
        .init("crit", .int, default: 5, "waiting sessions at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: lock-waits
          kind: postgres.lock_waits
          with: { warn: 1, crit: 5 }
        """

    let variable: String?
    let warn: Int, crit: Int

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        warn = try p.int("warn", default: 1)
        crit = try p.int("crit", default: 5)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let rows = try context.readOnlyQuery(variable: variable) { db in
            try db.query("""
                SELECT pid, pg_blocking_pids(pid) AS blocked_by, left(query, 200) AS query,
                       extract(epoch FROM now() - state_change)::float8 AS waiting_s
                  FROM pg_stat_activity
                 WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()
                 ORDER BY state_change LIMIT 20
                """).rows
        }
        let count = rows.count
        let status: StepStatus = count >= crit ? .fail : count >= warn ? .warn : .ok
        let waiting: [JSONValue] = rows.map { r in
            .object(["pid": .int(r["pid"].int ?? 0),
                     "blocked_by": .array((r["blocked_by"].array ?? []).map { .int($0.int ?? 0) }),
                     "waiting_s": .double(r["waiting_s"].double ?? 0),
                     "query": .string(r["query"].string ?? "")])
        }
        let blockers = Set(rows.flatMap { ($0["blocked_by"].array ?? []).compactMap(\.int) }).sorted()
        let message = count == 0 ? "no sessions waiting on locks"
            : "\(count) session(s) waiting on locks, blocked by pid \(blockers.map(String.init).joined(separator: ", "))"
        return .init(status, message, details: ["waiting": .array(waiting)],
                     metrics: [Metric(name: "lock_waits", value: Double(count), unit: "count", warn: Double(warn), crit: Double(crit), min: 0)])
    }
}
