import Foundation
import Postgres

/// Stores a webhook event exactly once and applies it to recovery cases and actions.
///
/// The event row and its effects commit together. When the effects fail, they roll back on their
/// own (a PL/pgSQL exception block) and the event stays unprocessed with its error, so a later
/// redelivery (a replay) processes it; a redelivery of a processed event changes nothing.
///
/// The whole of it is one server-side function, created in each pooled session's `pg_temp` schema
/// (the reference schema stays exactly what the migrations made). Events arriving together are
/// processed as one batch: one round trip and one commit for all of them (see `EventBatcher`).
struct EventProcessor: Sendable {
    enum Outcome: Sendable, Equatable {
        case processed
        case duplicate
        /// The event is stored, its effects failed (and rolled back); a redelivery processes it.
        case failed(String)
        /// Storing the event itself failed; nothing of it was kept.
        case error(String)
    }

    /// Processes a batch in one round trip and one commit, each event in its own subtransaction:
    /// one event's failure never touches another's. Outcomes come back in the batch's order.
    /// Events are applied grouped by membership, so concurrent batches take their membership locks in
    /// one order; one membership's events keep their arrival order (a failure, then its recovery).
    func process(_ batch: [(event: IncomingEvent, injectFailure: Bool)], on connection: PostgresConnection) throws -> [Outcome] {
        guard !batch.isEmpty else { return [] }
        let order = batch.indices.sorted { (batch[$0].event.membershipID ?? "", $0) < (batch[$1].event.membershipID ?? "", $1) }
        let events = order.map { batch[$0] }
        func column(_ value: (IncomingEvent) -> String?) -> PostgresTextArray { PostgresTextArray(events.map { value($0.event) }) }
        let rows = try connection.query("""
            SELECT pg_temp.churn_saver_process_batch($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                                                     $7::text[], $8::text[], $9::text[], $10::text[], $11::text[]) AS outcome
            """, [column(\.id), column(\.type), column { $0.kind?.rawValue }, column(\.membershipID), column(\.companyID),
                  column(\.userID), column(\.failureReason), column { $0.amountCents.map(String.init) },
                  column { String($0.occurredAt.timeIntervalSince1970) }, column(\.payload),
                  PostgresTextArray(events.map { $0.injectFailure ? "injected fault processing_errors" : nil })]).rows
        guard rows.count == batch.count else {
            throw PostgresError(kind: .query, message: "batch of \(batch.count) events returned \(rows.count) outcomes")
        }
        var outcomes = [Outcome](repeating: .processed, count: batch.count)
        for (position, index) in order.enumerated() {
            outcomes[index] = Self.outcome(rows[position]["outcome"].string ?? "")
        }
        return outcomes
    }

    static func outcome(_ text: String) -> Outcome {
        switch text {
        case "processed": return .processed
        case "duplicate": return .duplicate
        case let t where t.hasPrefix("failed:"): return .failed(String(t.dropFirst(7)))
        case let t where t.hasPrefix("error:"): return .error(String(t.dropFirst(6)))
        default: return .error("unexpected outcome '\(text)'")
        }
    }

    /// Run once per pooled connection.
    static func prepare(_ connection: PostgresConnection) throws {
        try connection.execute(function)
        try connection.execute(batchFunction)
    }

    /// The batch: each event with its own company context and its own subtransaction.
    static let batchFunction = """
    CREATE OR REPLACE FUNCTION pg_temp.churn_saver_process_batch(
        p_ids text[], p_types text[], p_kinds text[], p_memberships text[], p_companies text[], p_users text[],
        p_reasons text[], p_amounts text[], p_occurred text[], p_payloads text[], p_fails text[])
    RETURNS SETOF text LANGUAGE plpgsql AS $fn$
    BEGIN
        FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
            -- The company context is transaction-local: never carry one event's into the next.
            PERFORM set_config('app.current_company_id', '', true);
            BEGIN
                RETURN NEXT pg_temp.churn_saver_process(p_ids[i], p_types[i], p_kinds[i], p_memberships[i], p_companies[i],
                                                        p_users[i], p_reasons[i], p_amounts[i]::integer,
                                                        to_timestamp(p_occurred[i]::float8), p_payloads[i], p_fails[i]);
            EXCEPTION WHEN OTHERS THEN
                RETURN NEXT 'error:' || SQLERRM;
            END;
        END LOOP;
    END
    $fn$
    """

    static let function = """
    CREATE OR REPLACE FUNCTION pg_temp.churn_saver_process(
        p_event_id text, p_type text, p_kind text, p_membership text, p_company text, p_user text,
        p_reason text, p_amount integer, p_occurred timestamptz, p_payload text, p_fail text)
    RETURNS text LANGUAGE plpgsql AS $fn$
    DECLARE
        v_id uuid;
        v_processed boolean;
        v_case text;
        v_case_company text;
        v_case_user text;
        v_company text := coalesce(p_company, 'unknown');
        v_user text := coalesce(p_user, 'unknown');
        v_push boolean;
        v_dm boolean;
        v_days integer;
        v_error text;
    BEGIN
        -- The migrations' row-level security: the service works in the event's company context.
        IF p_company IS NOT NULL AND to_regprocedure('set_company_context(text)') IS NOT NULL THEN
            PERFORM set_company_context(p_company);
        END IF;
        INSERT INTO events (whop_event_id, type, membership_id, payload, company_id, occurred_at, received_at)
        VALUES (p_event_id, p_type, p_membership, p_payload::jsonb, p_company, p_occurred, now())
        ON CONFLICT (whop_event_id) DO NOTHING
        RETURNING id INTO v_id;
        IF v_id IS NULL THEN
            -- Redelivery: wait for a concurrent delivery of the same event, then look.
            SELECT id, processed INTO v_id, v_processed FROM events WHERE whop_event_id = p_event_id FOR UPDATE;
            IF v_id IS NULL OR v_processed THEN
                RETURN 'duplicate';
            END IF;
        END IF;
        BEGIN
            IF p_kind IS NOT NULL THEN
                IF p_membership IS NULL THEN
                    RAISE EXCEPTION '% event % has no membership id (data.membership_id)', p_type, p_event_id;
                END IF;
                -- One membership's events apply one at a time: never two open cases.
                PERFORM pg_advisory_xact_lock(hashtext('churn-saver/membership/' || p_membership));
                SELECT id, company_id, user_id INTO v_case, v_case_company, v_case_user
                  FROM recovery_cases
                 WHERE membership_id = p_membership AND status = 'open'
                 ORDER BY created_at DESC LIMIT 1
                   FOR UPDATE;
                IF p_kind = 'payment_failed' AND v_case IS NOT NULL THEN
                    UPDATE recovery_cases SET failure_reason = coalesce(p_reason, failure_reason), updated_at = now()
                     WHERE id = v_case;
                ELSIF p_kind = 'payment_failed' THEN
                    -- A new case gets the first reminder round and the incentive of the company's settings.
                    SELECT enable_push, enable_dm, incentive_days INTO v_push, v_dm, v_days
                      FROM creator_settings WHERE company_id = v_company;
                    v_push := coalesce(v_push, true);
                    v_dm := coalesce(v_dm, true);
                    v_days := coalesce(v_days, 3);
                    v_case := 'case_' || replace(gen_random_uuid()::text, '-', '');
                    INSERT INTO recovery_cases (id, company_id, membership_id, user_id, first_failure_at, last_nudge_at,
                                                attempts, incentive_days, status, failure_reason)
                    VALUES (v_case, v_company, p_membership, v_user, p_occurred,
                            CASE WHEN v_push OR v_dm THEN now() END, CASE WHEN v_push OR v_dm THEN 1 ELSE 0 END,
                            v_days, 'open', p_reason);
                    INSERT INTO recovery_actions (company_id, case_id, membership_id, user_id, type, channel, metadata)
                    SELECT v_company, v_case, p_membership, v_user, a.type, a.channel, a.metadata
                      FROM (VALUES ('nudge_push', 'push', v_push,
                                    jsonb_build_object('event_id', p_event_id, 'offset_days', 0)),
                                   ('nudge_dm', 'dm', v_dm, jsonb_build_object('event_id', p_event_id, 'offset_days', 0)),
                                   ('incentive_applied', NULL, v_days > 0,
                                    jsonb_build_object('event_id', p_event_id, 'days', v_days)))
                           AS a(type, channel, wanted, metadata)
                     WHERE a.wanted;
                ELSIF p_kind IN ('payment_succeeded', 'membership_went_valid') AND v_case IS NOT NULL THEN
                    UPDATE recovery_cases
                       SET status = 'recovered', recovered_amount_cents = coalesce(p_amount, recovered_amount_cents),
                           updated_at = now()
                     WHERE id = v_case;
                ELSIF p_kind = 'membership_went_invalid' AND v_case IS NOT NULL THEN
                    INSERT INTO recovery_actions (company_id, case_id, membership_id, user_id, type, metadata)
                    VALUES (v_case_company, v_case, p_membership, v_case_user, 'membership_terminated',
                            jsonb_build_object('event_id', p_event_id));
                    UPDATE recovery_cases SET status = 'closed_no_recovery', updated_at = now() WHERE id = v_case;
                END IF;
            END IF;
            IF p_fail IS NOT NULL THEN
                RAISE EXCEPTION '%', p_fail;
            END IF;
            UPDATE events SET processed = true, processed_at = now(), error = NULL WHERE id = v_id;
            RETURN 'processed';
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_error = MESSAGE_TEXT;
            UPDATE events SET processed = false, processed_at = NULL, error = v_error WHERE id = v_id;
            RETURN 'failed:' || v_error;
        END;
    END
    $fn$
    """
}
