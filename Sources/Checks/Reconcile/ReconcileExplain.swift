import Foundation
import Postgres

/// `opsctl reconcile event <id>`: one webhook event's timeline, read through the declared event store —
/// when it happened and arrived, its processing state and error, every replay that delivered it, and
/// (with a tenant column) the tenant's events around it. Service-specific explains (a payment, a case)
/// are runbooks of the service's profile (`explain-NAME`), not Swift.
public struct ReconcileExplain: StepKind {
    public static let name = "reconcile.explain"
    public static let summary = "Explain one webhook event end to end: arrival, processing state and error, replays, the tenant's events around it"
    public static let parameters: [ParameterSpec] = [
        .init("id", .string, required: true, "the provider's event id (service.events.provider_id) or the row's id (service.events.id)"),
        .init("around", .int, default: 10, "how many of the tenant's events before and after it to show"),
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
    ]
    public static let mutates = false
    public static let example = """
        - id: explain-event
          kind: reconcile.explain
          with: { id: evt_does_not_exist }
        """

    let id: String
    let around: Int
    let variable: String?
    let step: String

    public init(_ p: StepParameters) throws {
        id = try p.string("id")
        around = try p.int("around", default: 10)
        guard (0...1000).contains(around) else { throw StepError("step '\(p.stepID)': around must be 0...1000") }
        variable = try p.optionalString("database_url_env")
        step = p.stepID
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let store = try context.service.eventStore(for: step)
        return try context.readOnlyQuery(variable: variable, statementTimeoutMs: 30_000) { db in
            guard try store.tableExists(db) else {
                return .init(.fail, "event \(id): table \(store.table) does not exist (is DATABASE_URL the service's database? 'opsctl doctor' checks the mapping)")
            }
            return try explain(db, store)
        }
    }

    func explain(_ db: PostgresConnection, _ store: EventStore) throws -> StepOutcome {
        let state = "CASE WHEN \(store.processedSQL("e")) THEN 'processed' WHEN \(store.failedSQL("e")) THEN 'failed' ELSE 'pending' END"
        let match = store.rowID.map { "\(store.providerIDSQL("e")) = $1 OR \(store.column($0, "e"))::text = $1" } ?? "\(store.providerIDSQL("e")) = $1"
        guard let event = try db.query("""
            SELECT \(store.providerIDSQL("e"))::text AS event_id, \(store.typeSQL("e")) AS type, \(state) AS state,
                   \(store.errorSQL("e")) AS error, \(store.attempts.map { store.column($0, "e") + "::text" } ?? "NULL::text") AS attempts,
                   \(store.occurredAtSQL("e"))::text AS occurred_at, \(store.receivedAtSQL("e"))::text AS received_at,
                   \(store.tenantSQL("e") ?? "NULL::text") AS tenant
              FROM \(store.tableSQL) e WHERE \(match) LIMIT 1
            """, [id]).first else {
            return .init(.fail, "event \(id): not in \(store.table) — find it at the provider and replay it ('opsctl reconcile --provider-url …', then 'opsctl replay --from-file')")
        }
        let eventID = event["event_id"].string ?? id
        let eventState = event["state"].string ?? "pending"
        var timeline: [JSONValue] = []
        func entry(_ at: String?, _ fields: [String: JSONValue]) {
            guard let at else { return }
            timeline.append(.object(fields.merging(["at": .string(at)]) { $1 }))
        }
        entry(event["occurred_at"].string, ["what": "occurred at the provider", "type": event["type"].string.map(JSONValue.string) ?? .null])
        if event["received_at"].string != event["occurred_at"].string {
            entry(event["received_at"].string, ["what": "received"])
        }
        // Replays that carried it (opsctl's own tables, when a replay ever ran against this database).
        var replays = 0
        if try db.query("SELECT to_regclass('opsctl.replay_items') IS NOT NULL AS present").first?["present"].bool == true {
            for r in try db.query("""
                SELECT replay_id, status, attempts, last_http_status, error, updated_at::text AS at
                  FROM opsctl.replay_items WHERE event_id = $1 ORDER BY updated_at
                """, [eventID]).rows {
                replays += 1
                entry(r["at"].string, ["what": .string("replay \(r["replay_id"].string ?? "?") \(r["status"].string ?? "?")"),
                                       "http_status": r["last_http_status"].int.map(JSONValue.int) ?? .null,
                                       "error": r["error"].string.map(JSONValue.string) ?? .null])
            }
        }
        // The tenant's events around it: what else happened to the same company/shop/workspace.
        var neighbours: [JSONValue] = []
        if let tenant = event["tenant"].string, let tenantSQL = store.tenantSQL("e") {
            let occurred = store.occurredAtSQL("e")
            for n in try db.query("""
                (SELECT \(store.providerIDSQL("e"))::text AS event_id, \(store.typeSQL("e")) AS type, \(state) AS state, \(occurred)::text AS at
                   FROM \(store.tableSQL) e WHERE \(tenantSQL) = $1 AND \(occurred) <= $2::timestamptz AND \(store.providerIDSQL("e"))::text <> $3
                  ORDER BY \(occurred) DESC LIMIT $4)
                UNION ALL
                (SELECT \(store.providerIDSQL("e"))::text, \(store.typeSQL("e")), \(state), \(occurred)::text
                   FROM \(store.tableSQL) e WHERE \(tenantSQL) = $1 AND \(occurred) > $2::timestamptz
                  ORDER BY \(occurred) LIMIT $4)
                """, [tenant, event["occurred_at"].string ?? "now", eventID, String(around)]).rows {
                neighbours.append(.object(["at": .string(n["at"].string ?? ""), "event_id": .string(n["event_id"].string ?? ""),
                                           "type": n["type"].string.map(JSONValue.string) ?? .null, "state": .string(n["state"].string ?? "")]))
            }
            neighbours.sort { ($0["at"]?.string ?? "") < ($1["at"]?.string ?? "") }
        }
        timeline.sort { ($0["at"]?.string ?? "") < ($1["at"]?.string ?? "") }
        var summary = "event \(eventID) \(event["type"].string ?? "")".trimmingCharacters(in: .whitespaces) + ": \(eventState)"
        if let error = event["error"].string { summary += " (\(error))" }
        if let attempts = event["attempts"].string { summary += ", \(attempts) attempt(s)" }
        summary += ", \(replays) replay(s)"
        if let tenant = event["tenant"].string { summary += ", tenant \(tenant) (\(neighbours.count) event(s) around it)" }
        let details: [String: JSONValue] = [
            "event": .object(Dictionary(uniqueKeysWithValues: zip(event.columnNames, event.values.map { $0.string.map(JSONValue.string) ?? .null }))),
            "timeline": .array(timeline), "around": .array(neighbours),
        ]
        switch eventState {
        case "processed": return .ok(summary, details: details)
        case "failed": return .init(.warn, summary + " — fix the cause, then 'opsctl replay --failed --verify'", details: details)
        default: return .init(.warn, summary + " — not processed yet; if it stays pending, 'opsctl replay --failed --stale 15m --verify'", details: details)
        }
    }
}
