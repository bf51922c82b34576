import Foundation
import Postgres

/// Client sessions grouped by state and by application: who holds the connections.
public struct PostgresConnectionStates: StepKind {
    public static let name = "postgres.connection_states"
    public static let summary = "Connections by state and by application; the busiest application's share of max_connections"
    public static let parameters: [ParameterSpec] = [
        Catalog.database,
        .init("warn", .number, default: 50, "percent of max_connections held by one application at or above which the step warns"),
        .init("crit", .number, default: 80, "percent of max_connections held by one application at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: connection-states
          kind: postgres.connection_states
          with: { warn: 50, crit: 80 }
        """

    let variable: String?
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        thresholds = try p.thresholds("", warn: 50, crit: 80)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let (rows, max) = try context.catalogReadOnly(variable: variable) { db in
            (try db.query("""
                SELECT coalesce(nullif(application_name, ''), '(none)') AS app, coalesce(state, 'unknown') AS state, count(*) AS n
                  FROM pg_stat_activity WHERE backend_type = 'client backend'
                 GROUP BY 1, 2 ORDER BY 3 DESC
                """).rows,
             try db.query("SELECT current_setting('max_connections')::int AS max").first?["max"].double ?? 100)
        }
        var byState: [String: Int] = [:], byApp: [String: [String: Int]] = [:]
        for r in rows {
            let app = r["app"].string ?? "", state = r["state"].string ?? "", n = r["n"].int ?? 0
            byState[state, default: 0] += n
            byApp[app, default: [:]][state, default: 0] += n
        }
        let findings = byApp.map { app, states in
            let total = states.values.reduce(0, +)
            return Catalog.Finding(name: app, value: Double(total) / Swift.max(max, 1) * 100,
                                   details: ["connections": .int(total), "states": .object(states.mapValues { .int($0) })])
        }
        var outcome = Catalog.worst(findings, thresholds: thresholds, metric: "busiest_application", unit: "%", noun: "application",
                                    none: "no client connections", max: 100) { Catalog.percent($0) + " of max_connections" }
        outcome.details["by_state"] = .object(byState.mapValues { .int($0) })
        let total = byState.values.reduce(0, +)
        outcome.message = "\(total) connection(s): " + byState.sorted { $0.value > $1.value }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            + " — " + outcome.message
        outcome.metrics.append(Metric(name: "client_connections", value: Double(total), unit: "count", min: 0, max: max))
        return outcome
    }
}
