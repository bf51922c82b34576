import Foundation
import Postgres

/// `opsctl reconcile case <id>` / `payment <id>`: one entity end to end — the events that touched its
/// membership, the recovery case, its actions — and which invariants it breaks.
public struct ReconcileExplain: StepKind {
    public static let name = "reconcile.explain"
    public static let summary = "Explain one payment (event) or recovery case end to end: events, case, actions, broken invariants"
    public static let parameters: [ParameterSpec] = [
        .init("entity", .string, required: true, "payment (an event id or the payment id in its data) or case (a recovery case id)"),
        .init("id", .string, required: true, "the id"),
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
    ]
    public static let mutates = false
    public static let example = """
        - id: explain-case
          kind: reconcile.explain
          with: { entity: case, id: case_does_not_exist }
        """

    let entity: String
    let id: String
    let variable: String?

    public init(_ p: StepParameters) throws {
        entity = try p.string("entity").lowercased()
        id = try p.string("id")
        variable = try p.optionalString("database_url_env")
        guard ["payment", "case"].contains(entity) else { throw StepError("step '\(p.stepID)': entity must be payment or case") }
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        try context.readOnlyQuery(variable: variable, statementTimeoutMs: 30_000) { db in
            let tables = try db.query("SELECT to_regclass('public.events') IS NOT NULL AS e, to_regclass('public.recovery_cases') IS NOT NULL AS c").first
            guard tables?["e"].bool == true, tables?["c"].bool == true else {
                return .init(.fail, "\(entity) \(id): this database has no events/recovery_cases tables (is DATABASE_URL the service's database?)")
            }
            return try explain(db)
        }
    }

    func explain(_ db: PostgresConnection) throws -> StepOutcome {
        var membership: String?
        var caseRow: Row?
        var anchor: [String: JSONValue] = [:]
        if entity == "payment" {
            guard let event = try db.query("""
                SELECT whop_event_id, type, membership_id, processed, error, occurred_at FROM events
                 WHERE whop_event_id = $1 OR payload->'data'->>'id' = $1 OR payload->'data'->>'payment_id' = $1
                 ORDER BY occurred_at LIMIT 1
                """, [id]).first else {
                return .init(.fail, "payment \(id): no event with this id in the events table — find it at the provider and replay it (opsctl reconcile --provider-url ...)")
            }
            membership = event["membership_id"].string
            anchor = ["event_id": .string(event["whop_event_id"].string ?? ""), "type": .string(event["type"].string ?? ""),
                      "processed": .bool(event["processed"].bool ?? false), "error": event["error"].string.map(JSONValue.string) ?? .null]
            if let membership {
                caseRow = try db.query("""
                    SELECT * FROM recovery_cases WHERE membership_id = $1 ORDER BY created_at DESC LIMIT 1
                    """, [membership]).first
            }
        } else {
            caseRow = try db.query("SELECT * FROM recovery_cases WHERE id = $1", [id]).first
            // Not found fails, as for a payment: an operator asking about one case expects it to exist.
            guard let caseRow else {
                return .init(.fail, "case \(id): no recovery case with this id — check the id (recovery_cases.id), or explain the payment instead (opsctl reconcile payment ID)")
            }
            membership = caseRow["membership_id"].string
        }
        var timeline: [JSONValue] = []
        var findings: [String] = []
        let events = try membership.map {
            try db.query("""
                SELECT whop_event_id, type, processed, error, occurred_at::text AS at FROM events
                 WHERE membership_id = $1 ORDER BY occurred_at, created_at
                """, [$0]).rows
        } ?? []
        for e in events {
            timeline.append(.object(["at": .string(e["at"].string ?? ""), "event": .string(e["type"].string ?? ""),
                                     "id": .string(e["whop_event_id"].string ?? ""),
                                     "state": .string(e["processed"].bool == true ? "processed" : "unprocessed: \(e["error"].string ?? "pending")")]))
            if e["processed"].bool != true { findings.append("event \(e["whop_event_id"].string ?? "") \(e["type"].string ?? "") is not processed (\(e["error"].string ?? "pending")): replay it") }
        }
        var summary = "\(entity) \(id)"
        if let membership { summary += ": membership \(membership), \(events.count) event(s)" }
        if let c = caseRow, let caseID = c["id"].string {
            let status = c["status"].string ?? "?"
            summary += ", case \(caseID) \(status) (\(c["attempts"].int ?? 0) nudges)"
            let actions = try db.query("""
                SELECT a.type, a.channel, a.created_at::text AS at, a.created_at > c.updated_at AND c.status <> 'open' AS after_close
                  FROM recovery_actions a JOIN recovery_cases c ON c.id = a.case_id
                 WHERE a.case_id = $1 ORDER BY a.created_at
                """, [caseID]).rows
            for a in actions {
                timeline.append(.object(["at": .string(a["at"].string ?? ""), "action": .string(a["type"].string ?? ""),
                                         "channel": a["channel"].string.map(JSONValue.string) ?? .null]))
            }
            let lastValidity = events.last { ["payment_succeeded", "membership_went_valid", "membership.activated"].contains($0["type"].string ?? "") || ["payment_failed", "membership_went_invalid", "membership.deactivated"].contains($0["type"].string ?? "") }
            let valid = ["payment_succeeded", "membership_went_valid", "membership.activated"].contains(lastValidity?["type"].string ?? "")
            if status == "open" && valid { findings.append("case is open but the membership's latest event (\(lastValidity?["type"].string ?? "")) says it is valid again: should be recovered") }
            if status == "recovered" && !events.contains(where: { ["payment_succeeded", "membership_went_valid", "membership.activated"].contains($0["type"].string ?? "") }) {
                findings.append("case is recovered but no success event exists for the membership")
            }
            let late = actions.filter { $0["after_close"].bool == true }.count
            if late > 0 { findings.append("\(late) action(s) recorded after the case was closed") }
            summary += ", \(actions.count) action(s)"
        } else {
            summary += ", no recovery case"
        }
        timeline.sort { ($0["at"]?.string ?? "") < ($1["at"]?.string ?? "") }
        var details: [String: JSONValue] = ["timeline": .array(timeline), "findings": .array(findings.map(JSONValue.string))]
        if !anchor.isEmpty { details["event"] = .object(anchor) }
        if let c = caseRow { details["case"] = .object(Dictionary(uniqueKeysWithValues: zip(c.columnNames, c.values.map { $0.string.map(JSONValue.string) ?? .null }))) }
        if findings.isEmpty { return .ok(summary + "; consistent", details: details) }
        return .init(.warn, summary + "; " + findings.joined(separator: "; "), details: details)
    }
}
