import Foundation
import Postgres

/// Whether one event (by the provider's id) is stored and processed, read through the declared event
/// store: verify's round trip polls it (`until: details.processed == true`) after sending a test event.
public struct EventProcessed: StepKind {
    public static let name = "service.event_processed"
    public static let summary = "Is one webhook event (by provider id) stored and processed? Reads the service.events mapping"
    public static let parameters: [ParameterSpec] = [
        .init("event_id", .string, required: true, "the provider's event id (service.events.provider_id)"),
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
    ]
    public static let mutates = false
    public static let example = """
        - id: test-event-processed
          kind: service.event_processed
          retry: { attempts: 40, delay: 250ms, until: "details.processed == true" }
          with: { event_id: "opsctl_synthetic_${run.id}" }
        """

    let eventID: String
    let variable: String?
    let step: String

    public init(_ p: StepParameters) throws {
        eventID = try p.string("event_id")
        variable = try p.optionalString("database_url_env")
        step = p.stepID
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let store = try context.service.eventStore(for: step)
        let found: Row?? = try context.readOnlyQuery(variable: variable) { db in
            // A missing table is the mapping's problem, said as such (opsctl doctor), not a SQL error.
            guard try store.tableExists(db) else { return nil }
            return try db.query("""
                SELECT coalesce(\(store.processedSQL()), false) AS processed, \(store.errorSQL()) AS error
                  FROM \(store.tableSQL) WHERE \(store.providerIDSQL()) = $1 LIMIT 1
                """, [eventID]).first
        }
        guard let stored = found else {
            return .init(.fail, "table \(store.table) does not exist: check service.events.table ('opsctl doctor')", details: ["processed": .bool(false)])
        }
        guard let row = stored else {
            return .init(.fail, "event \(eventID) is not in \(store.table)", details: ["processed": .bool(false), "stored": .bool(false)])
        }
        let processed = row["processed"].bool ?? false
        let error = row["error"].string
        let details: [String: JSONValue] = ["processed": .bool(processed), "stored": .bool(true), "error": error.map(JSONValue.string) ?? .null]
        let message = "processed=\(processed)\(error.map { " \($0)" } ?? "")"
        return .init(processed ? .ok : .fail, message, details: details)
    }
}
