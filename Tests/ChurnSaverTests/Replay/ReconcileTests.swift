import Foundation
import Testing
import TestSupport

/// `opsctl reconcile` against a database seeded with the inconsistencies the runbooks look for.
@Suite("Reconcile", .enabled(if: TestDatabase.available), .serialized)
struct ReconcileTests {
    static func seedInconsistencies(_ f: ReplayFixture) throws {
        try f.exec("""
            INSERT INTO creator_settings (company_id, reminder_offsets_days) VALUES ('biz_test', '{0,2,4}');
            INSERT INTO events (whop_event_id, type, membership_id, payload, company_id, occurred_at, processed) VALUES
              ('evt_fail_a', 'payment_failed', 'mem_a', '{}', 'biz_test', now() - interval '2 days', true),
              ('evt_ok_a', 'payment_succeeded', 'mem_a', '{}', 'biz_test', now() - interval '1 day', true),
              ('evt_fail_b', 'payment_failed', 'mem_b', '{}', 'biz_test', now() - interval '2 days', true),
              ('evt_broken', 'payment_failed', 'mem_d', '{}', 'biz_test', now() - interval '3 hours', false);
            UPDATE events SET error = 'handler crashed', created_at = now() - interval '3 hours' WHERE whop_event_id = 'evt_broken';
            INSERT INTO recovery_cases (id, company_id, membership_id, user_id, first_failure_at, status, attempts) VALUES
              ('case_open_valid', 'biz_test', 'mem_a', 'user_a', now() - interval '2 days', 'open', 1),
              ('case_recovered_no_success', 'biz_test', 'mem_b', 'user_b', now() - interval '2 days', 'recovered', 1),
              ('case_over_schedule', 'biz_test', 'mem_c', 'user_c', now() - interval '9 days', 'open', 5);
            """)
    }

    @Test func findsSeededInconsistenciesAndFixRepairsThem() throws {
        let f = try ReplayFixture(label: "reconcile_fix")
        try Self.seedInconsistencies(f)
        let out = try f.opsctl(["reconcile", "--format", "json"])
        let r = ReplayFixture.results(out)
        #expect(r["unprocessed"]?["status"] as? String == "fail", "\(out.stdout)")
        #expect(message(r, "unprocessed").contains("evt_broken"))
        #expect(message(r, "errors-by-type").contains("payment_failed 1"))
        #expect(message(r, "open-but-valid").contains("case_open_valid"))
        #expect(message(r, "recovered-without-success").contains("case_recovered_no_success"))
        #expect(message(r, "beyond-schedule").contains("case_over_schedule"))
        #expect(r["duplicate-provider-ids"]?["status"] as? String == "ok")
        #expect(r["fix-open-but-valid"]?["status"] as? String == "skipped")

        let dry = try f.opsctl(["reconcile", "--fix", "--dry-run", "--format", "json"])
        #expect(message(ReplayFixture.results(dry), "fix-open-but-valid").hasPrefix("dry-run"))
        #expect(try f.count("SELECT count(*) FROM recovery_cases WHERE status = 'open'") == 2)

        let fixed = try f.opsctl(["reconcile", "--fix", "--format", "json"])
        let fr = ReplayFixture.results(fixed)
        #expect(fr["fix-open-but-valid"]?["message"] as? String == "1 case(s) marked recovered", "\(fixed.stdout)")
        #expect(fr["fix-beyond-schedule"]?["message"] as? String == "1 case(s) closed as closed_no_recovery")
        #expect(try f.count("SELECT count(*) FROM recovery_cases WHERE id = 'case_open_valid' AND status = 'recovered'") == 1)
        #expect(try f.count("SELECT count(*) FROM recovery_cases WHERE id = 'case_over_schedule' AND status = 'closed_no_recovery'") == 1)

        let after = ReplayFixture.results(try f.opsctl(["reconcile", "--format", "json"]))
        #expect(after["open-but-valid"]?["status"] as? String == "ok")
        #expect(after["beyond-schedule"]?["status"] as? String == "ok")
    }

    @Test func explainsOneCaseEndToEnd() throws {
        let f = try ReplayFixture(label: "reconcile_case")
        try Self.seedInconsistencies(f)
        let out = try f.opsctl(["reconcile", "case", "case_open_valid", "--format", "json"])
        let explain = ReplayFixture.results(out)["explain"]
        let message = explain?["message"] as? String ?? ""
        #expect(message.contains("membership mem_a") && message.contains("should be recovered"), "\(out.stdout)")
        // The explain is churn-saver's explain-case runbook (one sql.query): the timeline is its row's column.
        let row = ((explain?["details"] as? [String: Any])?["rows"] as? [[String: Any]])?.first
        let timeline = row?["timeline"] as? [[String: Any]] ?? []
        #expect(timeline.count == 2)
        let payment = try f.opsctl(["reconcile", "payment", "evt_broken"])
        #expect(payment.stdout.contains("evt_broken") && payment.stdout.contains("handler crashed"), "\(payment.stdout)")
        // Any service's timeline of one event, from the events mapping: state, error, tenant around it.
        let event = try f.opsctl(["reconcile", "event", "evt_broken", "--format", "json"])
        #expect(event.exitCode == 0, "\(event.stdout)\(event.stderr)")
        let eventMessage = ReplayFixture.results(event)["explain"]?["message"] as? String ?? ""
        #expect(eventMessage.hasPrefix("event evt_broken payment_failed: failed (handler crashed), 0 replay(s), tenant biz_test ("), "\(event.stdout)")
    }

    /// Issue 12 item 16: an unknown case fails like an unknown payment (it used to be ✔ exit 0).
    @Test func anUnknownCaseOrPaymentFails() throws {
        let f = try ReplayFixture(label: "reconcile_unknown")
        let unknownCase = try f.opsctl(["reconcile", "case", "nonexistent"])
        #expect(unknownCase.exitCode == 1, "\(unknownCase.stdout)")
        #expect(unknownCase.stdout.contains("no recovery case with this id"), "\(unknownCase.stdout)")
        let unknownPayment = try f.opsctl(["reconcile", "payment", "nonexistent"])
        #expect(unknownPayment.exitCode == 1, "\(unknownPayment.stdout)")
    }

    @Test func providerDiffFindsMissingEventsAndTheirPlanReplays() throws {
        let dir = TemporaryDirectory()
        let lines = (1...10).map { i in
            #"{"id":"evt_prov_\#(i)","type":"payment_failed","created_at":1764000000,"data":{"membership_id":"mem_prov_\#(i)","company_id":"biz_test","user_id":"user_\#(i)"}}"#
        }
        let providerFile = try dir.write("provider.jsonl", lines.joined(separator: "\n") + "\n")
        let f = try ReplayFixture(label: "reconcile_provider", serviceEnvironment: ["PROVIDER_EVENTS_FILE": providerFile])
        // The service received the first four.
        for line in lines.prefix(4) {
            #expect(try f.service.deliver(body: Data(line.utf8), id: nil).status == 200)
        }
        let out = try f.opsctl(["reconcile", "--provider-url", "/api/provider/events", "--plan-file", "missing.jsonl", "--format", "json"])
        let diff = ReplayFixture.results(out)["provider-diff"]
        #expect(diff?["status"] as? String == "fail", "\(out.stdout)")
        #expect((diff?["details"] as? [String: Any])?["missing"] as? Int == 6)
        let plan = try String(contentsOfFile: f.dir.path + "/missing.jsonl", encoding: .utf8)
        #expect(plan.split(separator: "\n").count == 6 && plan.contains("evt_prov_10") && !plan.contains("evt_prov_1\""))

        let replay = try f.opsctl(["replay", "--from-file", "missing.jsonl", "--verify", "--format", "json"])
        #expect(replay.exitCode == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(try f.count("SELECT count(*) FROM events WHERE whop_event_id LIKE 'evt_prov_%' AND processed") == 10)
        // --provider: the same list through the churn-saver profile's service.provider.events_api.
        let again = ReplayFixture.results(try f.opsctl(["reconcile", "--provider", "--format", "json"]))
        #expect(again["provider-diff"]?["status"] as? String == "ok")
    }
}
