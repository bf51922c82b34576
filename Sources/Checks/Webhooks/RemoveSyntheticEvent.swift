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
        guard eventID.hasPrefix(WebhookDelivery.syntheticPrefix) else {
            throw StepError("step '\(p.stepID)': refusing to delete event '\(eventID)': only synthetic events (opsctl_synthetic_…) are removed")
        }
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let connection = try context.connect(variable: variable)
        defer { connection.close() }
        let prefix = WebhookDelivery.syntheticPrefix + "%"
        let removed: Int = try connection.transaction(statementTimeoutMs: 10_000, lockTimeoutMs: 2_000) { db in
            let hasTable = { (name: String) throws -> Bool in
                try db.query("SELECT to_regclass($1) IS NOT NULL AS ok", [name]).first?["ok"].bool ?? false
            }
            guard try hasTable("events") else { return 0 }
            var total = try db.query("DELETE FROM events WHERE whop_event_id = $1", [eventID]).affectedRows
            // Cases and actions exist only for the synthetic membership, never for real ones.
            if try hasTable("recovery_cases") {
                total += try db.query("DELETE FROM recovery_cases WHERE membership_id LIKE $1", [prefix]).affectedRows
            }
            return total
        }
        return .ok(removed == 0 ? "nothing to remove for \(eventID)" : "removed \(eventID) (\(removed) row(s))",
                   details: ["event_id": .string(eventID), "rows": .int(removed)])
    }
}
