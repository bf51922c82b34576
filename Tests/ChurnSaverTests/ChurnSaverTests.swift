import Foundation
import HTTP
import Testing
import TestSupport
import Webhooks

/// One service (Whop scheme) shared by the suite; every test uses its own memberships and event ids.
enum Shared {
    static let service: Result<RunningService, any Error> = Result { try RunningService(label: "churn_saver") }
    static func get() throws -> RunningService { try service.get() }
}

@Suite(.enabled(if: TestDatabase.available))
struct ChurnSaverTests {
    @Test func signedWebhookIsStoredAndOpensACase() throws {
        let s = try Shared.get()
        let event = Events.make("payment_failed", membership: "mem_open", extra: ["failure_reason": "card_declined"])
        let response = try s.deliver(event)
        #expect(response.status == 200, "\(response.bodyText)")
        #expect(s.json(response)["status"] as? String == "processed")
        let id = event["id"] as! String
        #expect(try s.value("SELECT processed FROM events WHERE whop_event_id = $1", [id]).bool == true)
        #expect(try s.count("SELECT count(*) FROM recovery_cases WHERE membership_id = 'mem_open' AND status = 'open'") == 1)
        #expect(try s.value("SELECT failure_reason FROM recovery_cases WHERE membership_id = 'mem_open'").string == "card_declined")
        // Default creator settings: push + DM nudges and a 3-day incentive.
        #expect(try s.count("SELECT count(*) FROM recovery_actions WHERE membership_id = 'mem_open'") == 3)
        #expect(try eventually { try s.count("SELECT count(*) FROM webhook_logs WHERE status = 'success'") >= 1 })
        #expect(try eventually {
            try s.count("SELECT count(*) FROM api_request_logs WHERE route = '/api/webhooks/whop' AND status_code = 200") >= 1
        })
    }

    @Test func badSignatureIs401AndStoresNothing() throws {
        let s = try Shared.get()
        let event = Events.make("payment_failed", membership: "mem_badsig")
        let response = try s.deliver(event, secret: "not_the_secret_at_all_0000")
        #expect(response.status == 401)
        #expect(s.json(response)["reason"] as? String == "bad_signature")
        #expect(!response.bodyText.contains(s.secret))
        #expect(try s.count("SELECT count(*) FROM events WHERE whop_event_id = $1", [event["id"] as! String]) == 0)
        #expect(try eventually {
            try s.count("SELECT count(*) FROM webhook_logs WHERE status = 'failed' AND error LIKE '%signature%'") >= 1
        })
    }

    @Test func missingSignatureIs401() throws {
        let s = try Shared.get()
        let response = try s.request("POST", "/api/webhooks/whop", body: Array(#"{"id":"evt_nosig","type":"x"}"#.utf8))
        #expect(response.status == 401)
        #expect(s.json(response)["reason"] as? String == "missing_header")
    }

    @Test func staleTimestampIs401() throws {
        let s = try Shared.get()
        let event = Events.make("payment_failed", membership: "mem_stale")
        let response = try s.deliver(event, at: Date().addingTimeInterval(-301))
        #expect(response.status == 401)
        #expect(s.json(response)["reason"] as? String == "stale_timestamp")
        #expect(try s.count("SELECT count(*) FROM events WHERE whop_event_id = $1", [event["id"] as! String]) == 0)
    }

    @Test func redeliveryIsAcknowledgedAndProcessedOnce() throws {
        let s = try Shared.get()
        let event = Events.make("payment_failed", membership: "mem_redeliver")
        #expect(s.json(try s.deliver(event))["status"] as? String == "processed")
        for _ in 0..<3 {
            let again = try s.deliver(event)
            #expect(again.status == 200)
            #expect(s.json(again)["status"] as? String == "duplicate")
        }
        #expect(try s.count("SELECT count(*) FROM events WHERE whop_event_id = $1", [event["id"] as! String]) == 1)
        #expect(try s.count("SELECT count(*) FROM recovery_cases WHERE membership_id = 'mem_redeliver'") == 1)
        #expect(try s.count("SELECT count(*) FROM recovery_actions WHERE membership_id = 'mem_redeliver'") == 3)
    }

    @Test func concurrentRedeliveriesProcessOnce() async throws {
        let s = try Shared.get()
        let event = Events.make("payment_failed", membership: "mem_race")
        let body = try JSONSerialization.data(withJSONObject: event)
        let id = event["id"] as? String
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { try s.deliver(body: body, id: id).status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.allSatisfy { $0 == 200 })
        #expect(try s.count("SELECT count(*) FROM recovery_cases WHERE membership_id = 'mem_race'") == 1)
        #expect(try s.count("SELECT count(*) FROM recovery_actions WHERE membership_id = 'mem_race'") == 3)
    }

    /// A burst is processed in shared batches (one commit each), yet every delivery gets its own
    /// outcome: new events processed, repeats acknowledged as duplicates, a broken one failed alone.
    @Test func aConcurrentBurstIsBatchedWithOneOutcomeEach() async throws {
        let s = try Shared.get()
        let fresh = (0..<120).map { Events.make("payment_failed", membership: "mem_burst_\($0)") }
        for event in fresh.prefix(20) { try s.deliver(event) }   // these come again in the burst
        var broken = Events.make("payment_failed", membership: "unused")
        broken["data"] = ["company_id": "biz_burst"]             // no membership id: processing fails
        let burst = fresh.map { ($0, $0["id"] as! String) } + [(broken, broken["id"] as! String)]
        let answers = try await withThrowingTaskGroup(of: (String, Int, String).self) { group in
            for (event, id) in burst {
                let body = try JSONSerialization.data(withJSONObject: event)
                group.addTask {
                    let r = try s.deliver(body: body, id: id)
                    return (id, r.status, s.json(r)["status"] as? String ?? s.json(r)["detail"] as? String ?? "")
                }
            }
            return try await group.reduce(into: [String: (Int, String)]()) { $0[$1.0] = ($1.1, $1.2) }
        }
        for (i, event) in fresh.enumerated() {
            let answer = answers[event["id"] as! String]
            #expect(answer?.0 == 200)
            #expect(answer?.1 == (i < 20 ? "duplicate" : "processed"))
        }
        let failed = answers[broken["id"] as! String]
        #expect(failed?.0 == 500 && failed?.1.contains("no membership id") == true, "\(String(describing: failed))")
        #expect(try s.count("SELECT count(*) FROM recovery_cases WHERE membership_id LIKE 'mem_burst_%'") == 120)
        #expect(try s.count("SELECT count(*) FROM recovery_actions WHERE membership_id LIKE 'mem_burst_%'") == 360)
        #expect(try s.count("SELECT count(*) FROM events WHERE whop_event_id = $1 AND NOT processed AND error IS NOT NULL",
                            [broken["id"] as! String]) == 1)
    }

    @Test func paymentSucceededRecoversTheOpenCase() throws {
        let s = try Shared.get()
        #expect(try s.deliver(Events.make("payment_failed", membership: "mem_recover")).status == 200)
        let paid = Events.make("payment_succeeded", membership: "mem_recover", extra: ["amount_cents": 1999])
        #expect(try s.deliver(paid).status == 200)
        #expect(try s.value("SELECT status FROM recovery_cases WHERE membership_id = 'mem_recover'").string == "recovered")
        #expect(try s.value("SELECT recovered_amount_cents FROM recovery_cases WHERE membership_id = 'mem_recover'").int == 1999)
    }

    @Test(arguments: ["membership_went_valid", "membership.activated"])
    func membershipBecomingValidRecoversTheOpenCase(_ type: String) throws {
        let s = try Shared.get()
        let membership = "mem_valid_" + type.replacingOccurrences(of: ".", with: "_")
        #expect(try s.deliver(Events.make("payment_failed", membership: membership)).status == 200)
        #expect(try s.deliver(Events.make(type, membership: membership)).status == 200)
        #expect(try s.value("SELECT status FROM recovery_cases WHERE membership_id = $1", [membership]).string == "recovered")
    }

    @Test(arguments: ["membership_went_invalid", "membership.deactivated"])
    func membershipBecomingInvalidClosesTheCase(_ type: String) throws {
        let s = try Shared.get()
        let membership = "mem_invalid_" + type.replacingOccurrences(of: ".", with: "_")
        #expect(try s.deliver(Events.make("payment_failed", membership: membership)).status == 200)
        #expect(try s.deliver(Events.make(type, membership: membership)).status == 200)
        #expect(try s.value("SELECT status FROM recovery_cases WHERE membership_id = $1", [membership]).string
            == "closed_no_recovery")
        #expect(try s.count("SELECT count(*) FROM recovery_actions WHERE membership_id = $1 AND type = 'membership_terminated'",
                            [membership]) == 1)
    }

    @Test func invalidEventIs400() throws {
        let s = try Shared.get()
        let body = Array(#"{"type":"payment_failed"}"#.utf8)
        let headers = WebhookScheme.whop.sign(body: body, secret: s.secret)
        #expect(try s.request("POST", "/api/webhooks/whop", headers: headers, body: body).status == 400)
    }

    @Test func providerListWithoutAFileIsEmpty() throws {
        let s = try Shared.get()
        let body = s.json(try s.request("GET", "/api/provider/events"))
        #expect((body["data"] as? [Any])?.isEmpty == true)
        #expect(body["has_more"] as? Bool == false)
    }
}
