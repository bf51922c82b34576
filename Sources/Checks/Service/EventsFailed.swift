import Foundation
import Postgres

/// Events whose processing failed, by type, read through the declared event store (the failed state
/// value, or an error text with a boolean/timestamp state): reconcile's "what broke, and where".
public struct EventsFailed: StepKind {
    public static let name = "service.events_failed"
    public static let summary = "Failed webhook events (service.events) by type, with sample ids; warn/crit on the count"
    public static let parameters: [ParameterSpec] = [
        .init("warn", .number, default: 1, "failed events at or above which the step warns"),
        .init("crit", .number, "failed events at or above which the step fails"),
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
    ]
    public static let mutates = false
    public static let example = """
        - id: errors-by-type
          kind: service.events_failed
          with: { warn: 1 }
        """

    let thresholds: Thresholds
    let variable: String?
    let step: String

    public init(_ p: StepParameters) throws {
        thresholds = try p.thresholds("", warn: 1)
        variable = try p.optionalString("database_url_env")
        step = p.stepID
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let store = try context.service.eventStore(for: step)
        let row = try store.summaryRow(context, variable: variable, """
                SELECT coalesce(sum(n), 0)::int AS errors,
                       coalesce(string_agg(type || ' ' || n, ', ' ORDER BY n DESC, type), 'none') AS by_type,
                       coalesce(array_to_string((array_agg(sample ORDER BY n DESC, type))[1:5], ', '), 'none') AS sample
                  FROM (SELECT coalesce(\(store.typeSQL()), '?') AS type, count(*) AS n, min(\(store.providerIDSQL())::text) AS sample
                          FROM \(store.tableSQL) WHERE \(store.failedSQL()) GROUP BY 1) t
                """)
        let errors = row?["errors"].int ?? 0
        let byType = row?["by_type"].string ?? "none"
        let sample = row?["sample"].string ?? "none"
        return .init(thresholds.status(for: Double(errors)), "\(errors) events with errors (\(byType)); e.g. \(sample)",
                     details: ["errors": .int(errors), "by_type": .string(byType), "sample": .string(sample)],
                     metrics: [thresholds.metric("errors", Double(errors))])
    }
}
