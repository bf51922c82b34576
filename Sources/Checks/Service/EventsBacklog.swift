import Foundation
import Postgres

/// Events the service has not processed (pending or failed), read through the declared event store:
/// how many, how old the oldest is (the thresholds, in minutes), and the first ids. verify and daily
/// watch the whole backlog; reconcile the events stuck past a threshold.
public struct EventsBacklog: StepKind {
    public static let name = "service.events_backlog"
    public static let summary = "Unprocessed webhook events (service.events): count, age of the oldest in minutes against warn/crit, first ids"
    public static let parameters: [ParameterSpec] = [
        .init("older_than_minutes", .int, default: 0, "count only events received more than this many minutes ago (0: every unprocessed event)"),
        .init("warn", .number, default: 15, "oldest unprocessed event, in minutes, at or above which the step warns"),
        .init("crit", .number, default: 60, "oldest unprocessed event, in minutes, at or above which the step fails"),
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
    ]
    public static let mutates = false
    public static let example = """
        - id: event-backlog
          kind: service.events_backlog
          with: { warn: 15, crit: 60 }
        """

    let olderThan: Int
    let thresholds: Thresholds
    let variable: String?
    let step: String

    public init(_ p: StepParameters) throws {
        olderThan = try p.int("older_than_minutes", default: 0)
        guard (0...527_040).contains(olderThan) else { throw StepError("step '\(p.stepID)': older_than_minutes must be 0...527040 (a year)") }
        thresholds = try p.thresholds("", warn: 15, crit: 60)
        variable = try p.optionalString("database_url_env")
        step = p.stepID
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let store = try context.service.eventStore(for: step)
        let received = store.receivedAtSQL()
        // The synthetic events verify sends are its own business: they are removed when it ends.
        let row = try store.summaryRow(context, variable: variable, """
                SELECT count(*) AS unprocessed,
                       coalesce(extract(epoch FROM now() - min(\(received))) / 60, 0)::float8 AS oldest_minutes,
                       coalesce(array_to_string((array_agg(\(store.providerIDSQL())::text ORDER BY \(received)))[1:5], ', '), 'none') AS sample
                  FROM \(store.tableSQL)
                 WHERE \(store.processedSQL()) IS NOT TRUE AND \(store.providerIDSQL())::text NOT LIKE 'opsctl\\_synthetic\\_%'
                   AND \(received) < now() - make_interval(mins => $1::int)
                """, [String(olderThan)])
        let count = row?["unprocessed"].int ?? 0
        let oldest = row?["oldest_minutes"].double ?? 0
        let sample = row?["sample"].string ?? "none"
        let status = thresholds.status(for: oldest)
        let minutes = SQLQuery.format(oldest)
        let message = olderThan > 0
            ? "\(count) events unprocessed for more than \(olderThan) min (oldest \(minutes) min); e.g. \(sample)"
            : "\(count) unprocessed, oldest \(minutes) min" + (count > 0 ? "; e.g. \(sample)" : "")
        return .init(status, message, details: ["unprocessed": .int(count), "sample": .string(sample), "table": .string(store.table)],
                     metrics: [thresholds.metric("oldest_minutes", oldest, unit: "min"), Metric(name: "unprocessed", value: Double(count))])
    }
}
