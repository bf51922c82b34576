import Foundation
import Postgres

/// Stores a webhook event exactly once and applies it to recovery cases and actions.
///
/// The event row and its effects commit together. When the effects fail, they are rolled back to a
/// savepoint and the event is kept unprocessed with its error, so a later redelivery (a replay)
/// processes it; a redelivery of a processed event changes nothing.
struct EventProcessor: Sendable {
    enum Outcome: Sendable, Equatable {
        case processed
        case duplicate
        case failed(String)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Whether the schema has `set_company_context` (the reference migrations' row-level security).
    let companyContext = CompanyContextProbe()

    func process(_ event: IncomingEvent, injectFailure: Bool, on connection: PostgresConnection) throws -> Outcome {
        let useContext = try companyContext.available(connection)
        return try connection.transaction(statementTimeoutMs: 10_000, lockTimeoutMs: 5_000) { c in
            if useContext, let company = event.companyID {
                try c.query("SELECT set_company_context($1)", [company])
            }
            let inserted = try c.query("""
                INSERT INTO events (whop_event_id, type, membership_id, payload, company_id, occurred_at, received_at)
                VALUES ($1, $2, $3, $4::jsonb, $5, $6, now())
                ON CONFLICT (whop_event_id) DO NOTHING
                RETURNING id
                """, [event.id, event.type, event.membershipID, event.payload, event.companyID, event.occurredAt])
            let rowID: String
            if let row = inserted.first, let id = row["id"].string {
                rowID = id
            } else {
                // Redelivery: wait for any concurrent delivery of the same event, then look.
                let existing = try c.query("SELECT id, processed FROM events WHERE whop_event_id = $1 FOR UPDATE",
                                           [event.id])
                guard let row = existing.first, let id = row["id"].string, row["processed"].bool == false else {
                    return .duplicate
                }
                rowID = id
            }
            try c.execute("SAVEPOINT effects")
            do {
                try apply(event, c)
                if injectFailure { throw Failure(description: "injected fault processing_errors") }
                try c.execute("RELEASE SAVEPOINT effects")
                try c.query("UPDATE events SET processed = true, processed_at = now(), error = NULL WHERE id = $1", [rowID])
                return .processed
            } catch let error as PostgresError where error.kind == .connection {
                throw error
            } catch {
                let message = (error as? PostgresError)?.message ?? String(describing: error)
                try c.execute("ROLLBACK TO SAVEPOINT effects")
                try c.query("UPDATE events SET processed = false, processed_at = NULL, error = $2 WHERE id = $1",
                            [rowID, message])
                return .failed(message)
            }
        }
    }

    private func apply(_ event: IncomingEvent, _ c: PostgresConnection) throws {
        guard let kind = event.kind else { return } // other types are stored and acknowledged
        guard let membership = event.membershipID else {
            throw Failure(description: "\(event.type) event \(event.id) has no membership id (data.membership_id)")
        }
        // One membership's events apply one at a time, so a membership never has two open cases.
        try c.query("SELECT pg_advisory_xact_lock(hashtext('churn-saver/membership/' || $1))", [membership])
        switch kind {
        case .paymentFailed: try paymentFailed(event, membership: membership, c)
        case .paymentSucceeded, .membershipWentValid:
            try c.query("""
                UPDATE recovery_cases
                   SET status = 'recovered', recovered_amount_cents = coalesce($2, recovered_amount_cents), updated_at = now()
                 WHERE membership_id = $1 AND status = 'open'
                """, [membership, event.amountCents])
        case .membershipWentInvalid:
            guard let open = try openCase(membership, c) else { return }
            try insertActions(open, types: [("membership_terminated", nil)], event: event, c)
            try c.query("UPDATE recovery_cases SET status = 'closed_no_recovery', updated_at = now() WHERE id = $1",
                        [open.id])
        }
    }

    private struct OpenCase {
        var id: String
        var companyID: String
        var membershipID: String
        var userID: String
    }

    private func openCase(_ membership: String, _ c: PostgresConnection) throws -> OpenCase? {
        let r = try c.query("""
            SELECT id, company_id, user_id FROM recovery_cases
             WHERE membership_id = $1 AND status = 'open' ORDER BY created_at DESC LIMIT 1 FOR UPDATE
            """, [membership])
        guard let row = r.first, let id = row["id"].string else { return nil }
        return OpenCase(id: id, companyID: row["company_id"].string ?? "", membershipID: membership,
                        userID: row["user_id"].string ?? "")
    }

    /// Opens a case with the first reminder round (per the company's creator_settings), or notes
    /// the new failure on the case already open.
    private func paymentFailed(_ event: IncomingEvent, membership: String, _ c: PostgresConnection) throws {
        if let open = try openCase(membership, c) {
            try c.query("UPDATE recovery_cases SET failure_reason = coalesce($2, failure_reason), updated_at = now() WHERE id = $1",
                        [open.id, event.failureReason])
            return
        }
        let company = event.companyID ?? "unknown"
        let settings = try c.query("SELECT enable_push, enable_dm, incentive_days FROM creator_settings WHERE company_id = $1",
                                   [company]).first
        let push = settings?["enable_push"].bool ?? true
        let dm = settings?["enable_dm"].bool ?? true
        let incentiveDays = settings?["incentive_days"].int ?? 3
        var actions: [(type: String, channel: String?)] = []
        if push { actions.append(("nudge_push", "push")) }
        if dm { actions.append(("nudge_dm", "dm")) }
        if incentiveDays > 0 { actions.append(("incentive_applied", nil)) }
        let nudged = push || dm
        let opened = OpenCase(id: "case_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(),
                              companyID: company, membershipID: membership, userID: event.userID ?? "unknown")
        try c.query("""
            INSERT INTO recovery_cases (id, company_id, membership_id, user_id, first_failure_at, last_nudge_at,
                                        attempts, incentive_days, status, failure_reason)
            VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END, $7, $8, 'open', $9)
            """, [opened.id, opened.companyID, membership, opened.userID, event.occurredAt, nudged, nudged ? 1 : 0,
                  incentiveDays, event.failureReason])
        try insertActions(opened, types: actions, event: event, c, incentiveDays: incentiveDays)
    }

    private func insertActions(_ target: OpenCase, types: [(type: String, channel: String?)], event: IncomingEvent,
                               _ c: PostgresConnection, incentiveDays: Int = 0) throws {
        guard !types.isEmpty else { return }
        let metadata = types.map { action -> String in
            var object: [String: Any] = ["event_id": event.id]
            if action.type == "incentive_applied" { object["days"] = incentiveDays }
            if action.type.hasPrefix("nudge_") { object["offset_days"] = 0 }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self)
        }
        try c.query("""
            INSERT INTO recovery_actions (company_id, case_id, membership_id, user_id, type, channel, metadata)
            SELECT $1, $2, $3, $4, t, nullif(ch, ''), m::jsonb FROM unnest($5::text[], $6::text[], $7::text[]) AS u(t, ch, m)
            """, [target.companyID, target.id, target.membershipID, target.userID, types.map(\.type),
                  types.map { $0.channel ?? "" }, metadata])
    }
}

/// Looks once for `set_company_context(text)`.
final class CompanyContextProbe: @unchecked Sendable {
    private let lock = NSLock()
    private var present: Bool?

    func available(_ connection: PostgresConnection) throws -> Bool {
        if let known = lock.withLock({ present }) { return known }
        let found = try connection.query("SELECT to_regprocedure('set_company_context(text)') IS NOT NULL AS present")
            .first?["present"].bool ?? false
        lock.withLock { present = found }
        return found
    }
}
