import Foundation
import Postgres

/// The longest-running open transaction (blocks vacuum, holds locks).
public struct PostgresLongTransactions: StepKind {
    public static let name = "postgres.long_transactions"
    public static let summary = "Age of the longest-running transaction, with its pid and query"
    public static let parameters: [ParameterSpec] = [
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
        .init("warn", .duration, default: "5m", "age at or above which the step warns"),
        .init("crit", .duration, default: "30m", "age at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: long-transactions
          kind: postgres.long_transactions
          with: { warn: 5m, crit: 30m }
        """

    let variable: String?
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        thresholds = Thresholds(warn: try p.duration("warn", default: 300), crit: try p.duration("crit", default: 1800))
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let row = try context.readOnlyQuery(variable: variable) { db in
            try db.query("""
                SELECT pid, application_name, state, left(query, 200) AS query,
                       extract(epoch FROM now() - xact_start)::float8 AS age_s
                  FROM pg_stat_activity
                 WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() AND backend_type = 'client backend'
                   AND application_name NOT LIKE $1
                 ORDER BY xact_start LIMIT 1
                """, [ownRunPattern(context.applicationName)]).first
        }
        let age = max(0, row?["age_s"].double ?? 0)
        let metric = thresholds.metric("longest_transaction", age, unit: "s", min: 0)
        guard let row else { return .ok("no open transactions", metrics: [metric]) }
        let status = thresholds.status(for: age)
        let pid = row["pid"].int ?? 0
        return .init(status, "longest transaction: \(String(format: "%.0f", age)) s (pid \(pid), \(row["application_name"].string ?? "?"))",
                     details: ["pid": .int(pid), "application_name": .string(row["application_name"].string ?? ""),
                               "state": .string(row["state"].string ?? ""), "query": .string(row["query"].string ?? "")],
                     metrics: [metric])
    }
}

/// `opsctl/<runbook>/%`: the sibling checks of this run, which are not what the operator asks about.
func ownRunPattern(_ applicationName: String) -> String {
    let parts = applicationName.split(separator: "/")
    guard parts.count >= 3 else { return applicationName }
    return parts.dropLast().joined(separator: "/").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "/%"
}
