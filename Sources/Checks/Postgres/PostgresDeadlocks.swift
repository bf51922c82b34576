import Foundation
import Postgres

/// Deadlocks since the previous run (pg_stat_database.deadlocks is a counter since stats reset).
public struct PostgresDeadlocks: StepKind {
    public static let name = "postgres.deadlocks"
    public static let summary = "Deadlocks in this database since the previous run (the counter is kept in opsctl.health_state)"
    public static let parameters: [ParameterSpec] = [
        Catalog.database,
        .init("warn", .int, default: 1, "deadlocks since the previous run at or above which the step warns"),
        .init("crit", .int, default: 5, "deadlocks since the previous run at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: deadlocks
          kind: postgres.deadlocks
          with: { warn: 1, crit: 5 }
        """

    let variable: String?
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        thresholds = try p.thresholds("", warn: 1, crit: 5)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let (current, saved, saveProblem) = try context.sincePreviousRun(check: Self.name, variable: variable, read: { db in
            try db.query("SELECT deadlocks::float8 AS n FROM pg_stat_database WHERE datname = current_database()").first?["n"].double ?? 0
        }, values: { current, _ in ["deadlocks": current] })
        let previous = saved["deadlocks"]
        var details: [String: JSONValue] = ["total_since_stats_reset": .int(Int(current))]
        let value: Double, message: String
        if let previous {
            // A counter smaller than last time means the statistics were reset: count from zero.
            value = current >= previous.value ? current - previous.value : current
            details["previous"] = .int(Int(previous.value))
            details["since"] = .string(ISO8601DateFormatter().string(from: previous.recordedAt))
            message = "\(Int(value)) deadlock(s) since the previous run \(Catalog.age(Date().timeIntervalSince(previous.recordedAt))) ago"
        } else {
            value = current
            message = "first run: \(Int(current)) deadlock(s) since the statistics were reset (the next runs report the change)"
        }
        if let saveProblem { details["state"] = .string(saveProblem) }
        return .init(thresholds.status(for: value), message, details: details,
                     metrics: [thresholds.metric("deadlocks", value, unit: "count", min: 0)])
    }
}
