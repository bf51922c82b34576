import Foundation
import Postgres

/// Removes a synthetic test event (and anything it created) from the service's tables.
public struct RemoveSyntheticEvent: StepKind {
    public static let name = "webhooks.remove_synthetic"
    public static let summary = "Delete a synthetic test event sent by webhooks.send, and the rows it produced (only ids starting opsctl_synthetic_)"
    public static let parameters: [ParameterSpec] = [
        .init("event_id", .string, required: true, "the synthetic event id (must start with opsctl_synthetic_)"),
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
    ]
    /// Deletes only rows opsctl itself created (guarded by the id prefix): not a change to real data.
    public static let mutates = false
    public static let example = """
        - id: remove-test-event
          kind: webhooks.remove_synthetic
          always: true
          with: { event_id: opsctl_synthetic_example }
        """

    let eventID: String
    let variable: String?

    public init(_ p: StepParameters) throws {
        eventID = try p.string("event_id")
        variable = try p.optionalString("database_url_env")
        guard WebhookDelivery.isSynthetic(eventID) else {
            throw StepError("step '\(p.stepID)': refusing to delete event '\(eventID)': only synthetic events (opsctl_synthetic_…) are removed")
        }
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let connection = try context.connect(variable: variable)
        defer { connection.close() }
        let prefix = WebhookDelivery.syntheticPrefix + "%"
        // No event store declared: nothing of the service's can hold the synthetic event.
        guard let store = context.service.events else { return .ok("nothing to remove for \(eventID): no service.events declared") }
        let removed: Int = try connection.transaction(statementTimeoutMs: 10_000, lockTimeoutMs: 2_000) { db in
            guard try store.tableExists(db) else { return 0 }
            var total = try db.query("DELETE FROM \(store.tableSQL) WHERE \(store.providerIDSQL()) = $1", [eventID]).affectedRows
            // Rows the service derived from the synthetic event (the profile's cleanup), only for synthetic ids.
            for cleanup in context.service.syntheticCleanup {
                guard try db.query("SELECT to_regclass(\(EventStore.literal(cleanup.tableSQL))) IS NOT NULL AS ok").first?["ok"].bool ?? false else { continue }
                total += try db.query("DELETE FROM \(cleanup.tableSQL) WHERE \(quoteIdentifier(cleanup.column))::text LIKE $1", [prefix]).affectedRows
            }
            return total
        }
        return .ok(removed == 0 ? "nothing to remove for \(eventID)" : "removed \(eventID) (\(removed) row(s))",
                   details: ["event_id": .string(eventID), "rows": .int(removed)])
    }
}
