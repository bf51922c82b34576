import Foundation
import Postgres

/// Connections in use against `max_connections`.
public struct PostgresConnections: StepKind {
    public static let name = "postgres.connections"
    public static let summary = "Connections in use as a percentage of max_connections"
    public static let parameters: [ParameterSpec] = [
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
        .init("warn", .number, default: 80, "percent used at or above which the step warns"),
        .init("crit", .number, default: 95, "percent used at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: connections
          kind: postgres.connections
          with: { warn: 80, crit: 95 }
        """

    let variable: String?
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        thresholds = try p.thresholds("", warn: 80, crit: 95)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let row = try context.readOnlyQuery(variable: variable) { db in
            try db.query("""
                SELECT (SELECT count(*) FROM pg_stat_activity) AS used,
                       current_setting('max_connections')::int AS max,
                       current_setting('superuser_reserved_connections')::int AS reserved
                """).first
        }
        let used = row?["used"].double ?? 0, max = row?["max"].double ?? 1
        let percent = used / Swift.max(max, 1) * 100
        let status = thresholds.status(for: percent)
        return .init(status, "\(Int(used)) of \(Int(max)) connections in use (\(String(format: "%.0f", percent)) %)",
                     details: ["used": .int(Int(used)), "max": .int(Int(max)), "reserved": .int(row?["reserved"].int ?? 0)],
                     metrics: [thresholds.metric("connections_used", percent, unit: "%", min: 0, max: 100),
                               Metric(name: "connections", value: used, unit: "count", min: 0, max: max)])
    }
}
