import Foundation
import Postgres
import Support

/// After a replay: waits until the service has processed the replayed events and reports the ones
/// still failing with the service's error text.
public struct ReplayVerify: StepKind {
    public static let name = "webhooks.replay_verify"
    public static let summary = "Wait until a replay's events are processed by the service; report those still failing with their error"
    public static let parameters: [ParameterSpec] = [
        .init("replay", .string, default: "latest", "replay id, or `latest`"),
        .init("wait", .duration, default: "60s", "how long to wait for the service to process them"),
        .init("interval", .duration, default: "1s", "poll interval"),
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
    ]
    public static let mutates = false
    public static let example = """
        - id: verify-replay
          kind: webhooks.replay_verify
          with: { replay: latest, wait: 2s }
        """

    let replay: String
    let wait: Double
    let interval: Double
    let variable: String?
    let stepID: String

    public init(_ p: StepParameters) throws {
        let r = try p.string("replay", default: "latest")
        replay = r.isEmpty ? "latest" : r
        wait = try p.duration("wait", default: 60)
        interval = max(0.05, try p.duration("interval", default: 1))
        variable = try p.optionalString("database_url_env")
        stepID = p.stepID
    }

    struct State {
        var delivered = 0, processed = 0, erroring = 0, missing = 0, deliveryFailed = 0
        var done: Bool { processed == delivered }
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let connection = try context.connect(variable: variable)
        defer { connection.close() }
        let exists = try connection.query("SELECT to_regclass('opsctl.replay_items') IS NOT NULL AS ok").first?["ok"].bool ?? false
        let id: String
        if replay == "latest" {
            guard exists, let latest = try connection.query("SELECT replay_id FROM opsctl.replays ORDER BY created_at DESC LIMIT 1")
                .first?["replay_id"].string else {
                return .ok("no replay to verify (none recorded in opsctl.replays)")
            }
            id = latest
        } else {
            guard exists else { throw StepError("no replay \(replay): opsctl.replay_items does not exist in this database") }
            id = replay
        }
        let store: EventStore
        if let declared = context.service.events {
            store = declared
        } else {
            // Without an event store only an empty replay can be verified (nothing was delivered).
            let delivered = try connection.query("SELECT count(*) AS n FROM opsctl.replay_items WHERE replay_id = $1 AND status = 'delivered'", [id])
                .first?["n"].int ?? 0
            if delivered == 0 { return .ok("replay \(id): nothing delivered, nothing to verify") }
            store = try context.service.eventStore(for: stepID)
        }
        let deadline = Date().addingTimeInterval(wait)
        var state = try measure(id, store, connection)
        while !state.done, Date() < deadline, !context.cancellation.isCancelled {
            context.progress?("verify \(id): \(state.processed)/\(state.delivered) processed")
            Thread.sleep(forTimeInterval: min(interval, max(0, deadline.timeIntervalSinceNow)))
            state = try measure(id, store, connection)
        }
        let failing = try connection.query("""
            SELECT i.event_id, i.event_type, \(store.errorSQL("e")) AS error, \(store.providerIDSQL("e")) IS NULL AS missing
              FROM opsctl.replay_items i LEFT JOIN \(store.tableSQL) e ON \(store.providerIDSQL("e"))::text = i.event_id
             WHERE i.replay_id = $1 AND i.status = 'delivered' AND \(store.processedSQL("e")) IS NOT TRUE
             ORDER BY i.seq LIMIT 20
            """, [id]).rows.map { row -> JSONValue in
            .object(["event_id": .string(row["event_id"].string ?? ""), "type": .string(row["event_type"].string ?? ""),
                     "error": .string(row["missing"].bool == true ? "not in \(store.table)" : (row["error"].string ?? "not processed yet"))])
        }
        let undelivered = try connection.query("""
            SELECT event_id, last_http_status, error FROM opsctl.replay_items
             WHERE replay_id = $1 AND status <> 'delivered' ORDER BY seq LIMIT 20
            """, [id]).rows.map { row -> JSONValue in
            .object(["event_id": .string(row["event_id"].string ?? ""),
                     "http_status": row["last_http_status"].int.map(JSONValue.int) ?? .null,
                     "error": .string(row["error"].string ?? "not sent yet")])
        }
        let details: [String: JSONValue] = [
            "replay_id": .string(id), "delivered": .int(state.delivered), "processed": .int(state.processed),
            "still_failing": .int(state.delivered - state.processed), "with_error": .int(state.erroring),
            "missing": .int(state.missing), "not_delivered": .int(state.deliveryFailed),
            "failing": .array(failing), "undelivered": .array(undelivered),
        ]
        let metrics = [Metric(name: "replayed_processed", value: Double(state.processed), unit: "count"),
                       Metric(name: "replayed_failing", value: Double(state.delivered - state.processed), unit: "count")]
        var message = "replay \(id): \(state.processed)/\(state.delivered) delivered events processed"
        if state.deliveryFailed > 0 { message += ", \(state.deliveryFailed) never delivered" }
        guard state.done && state.deliveryFailed == 0 else {
            let first = (failing.first ?? undelivered.first).map { " — e.g. \($0["event_id"]?.string ?? ""): \($0["error"]?.string ?? "")" } ?? ""
            return .init(.fail, message + ", \(state.delivered - state.processed) still failing after \(DurationText.format(milliseconds: wait * 1000))\(first)",
                         details: details, metrics: metrics)
        }
        return .ok(message, details: details, metrics: metrics)
    }

    func measure(_ id: String, _ store: EventStore, _ db: PostgresConnection) throws -> State {
        let row = try db.query("""
            SELECT count(*) FILTER (WHERE i.status = 'delivered') AS delivered,
                   count(*) FILTER (WHERE i.status = 'delivered' AND \(store.processedSQL("e"))) AS processed,
                   count(*) FILTER (WHERE i.status = 'delivered' AND \(store.failedSQL("e"))) AS erroring,
                   count(*) FILTER (WHERE i.status = 'delivered' AND \(store.providerIDSQL("e")) IS NULL) AS missing,
                   count(*) FILTER (WHERE i.status <> 'delivered') AS not_delivered
              FROM opsctl.replay_items i LEFT JOIN \(store.tableSQL) e ON \(store.providerIDSQL("e"))::text = i.event_id
             WHERE i.replay_id = $1
            """, [id]).first
        return State(delivered: row?["delivered"].int ?? 0, processed: row?["processed"].int ?? 0,
                     erroring: row?["erroring"].int ?? 0, missing: row?["missing"].int ?? 0,
                     deliveryFailed: row?["not_delivered"].int ?? 0)
    }
}
