import Foundation
import Postgres

/// Sessions sitting `idle in transaction` longer than a limit (they hold locks and snapshots).
public struct PostgresIdleInTransaction: StepKind {
    public static let name = "postgres.idle_in_transaction"
    public static let summary = "Sessions idle in transaction for longer than a limit"
    public static let parameters: [ParameterSpec] = [
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
        .init("older_than", .duration, default: "5m", "idle time after which a session counts"),
        .init("warn", .int, default: 1, "sessions at or above which the step warns"),
        .init("crit", .int, default: 5, "sessions at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: idle-in-transaction
          kind: postgres.idle_in_transaction
          with: { older_than: 5m }
        """

    let variable: String?
    let olderThan: Double
    let warn: Int, crit: Int

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        olderThan = try p.duration("older_than", default: 300)
        warn = try p.int("warn", default: 1)
        crit = try p.int("crit", default: 5)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let rows = try context.readOnlyQuery(variable: variable) { db in
            try db.query("""
                SELECT pid, application_name, extract(epoch FROM now() - state_change)::float8 AS idle_s
                  FROM pg_stat_activity
                 WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')
                   AND now() - state_change > make_interval(secs => $1::float8)
                 ORDER BY state_change
                """, [olderThan]).rows
        }
        let status: StepStatus = rows.count >= crit ? .fail : rows.count >= warn ? .warn : .ok
        let sessions: [JSONValue] = rows.map {
            .object(["pid": .int($0["pid"].int ?? 0), "application_name": .string($0["application_name"].string ?? ""),
                     "idle_s": .double($0["idle_s"].double ?? 0)])
        }
        let limit = DurationFormat.short(olderThan)
        let message = rows.isEmpty ? "no sessions idle in transaction longer than \(limit)"
            : "\(rows.count) session(s) idle in transaction longer than \(limit) (pid \(rows.compactMap { $0["pid"].int }.map(String.init).joined(separator: ", ")))"
        return .init(status, message, details: ["sessions": .array(sessions)],
                     metrics: [Metric(name: "idle_in_transaction", value: Double(rows.count), unit: "count",
                                      warn: Double(warn), crit: Double(crit), min: 0)])
    }
}

enum DurationFormat {
    static func short(_ seconds: Double) -> String {
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600))h" }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60))m" }
        return seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
    }
}
