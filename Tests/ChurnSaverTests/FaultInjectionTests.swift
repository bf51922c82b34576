import Foundation
import HTTP
import Testing
import TestSupport
import Webhooks

/// Faults injected through /admin/faults (and FAULTS at start) show in health and webhook answers, and clear.
@Suite(.enabled(if: TestDatabase.available))
struct FaultInjectionTests {
    func inject(_ s: RunningService, _ json: String) throws -> HTTPResponse {
        try s.request("POST", "/admin/faults", headers: [(name: "Content-Type", value: "application/json")],
                      body: Array(json.utf8))
    }

    @Test func databaseDownMakesHealthUnhealthyUntilCleared() throws {
        let s = try RunningService(label: "faults_db")
        defer { s.stop() }
        #expect(try s.request("GET", "/api/health").status == 200)

        #expect(try inject(s, #"{"db_down":true}"#).status == 200)
        let down = try s.request("GET", "/api/health")
        #expect(down.status == 503)
        #expect(s.json(down)["status"] as? String == "unhealthy")
        #expect(try s.request("GET", "/api/health/db").status == 503)
        let event = Events.make("payment_failed", membership: "mem_dbdown")
        #expect(try s.deliver(event).status == 503)

        let cleared = try s.request("DELETE", "/admin/faults")
        #expect(cleared.status == 200)
        #expect(((s.json(cleared)["faults"] as? [String: Any])?["db_down"] as? Bool) == false)
        #expect(try s.request("GET", "/api/health").status == 200)
        #expect(try s.deliver(event).status == 200)
    }

    @Test func processingErrorsKeepTheEventForReplay() throws {
        let s = try RunningService(label: "faults_processing")
        defer { s.stop() }
        _ = try inject(s, #"{"processing_errors":true}"#)
        let event = Events.make("payment_failed", membership: "mem_proc")
        let failed = try s.deliver(event)
        #expect(failed.status == 500)
        let id = event["id"] as! String
        #expect(try s.value("SELECT processed FROM events WHERE whop_event_id = $1", [id]).bool == false)
        #expect(try s.value("SELECT error FROM events WHERE whop_event_id = $1", [id]).string?.contains("processing_errors") == true)
        #expect(try s.count("SELECT count(*) FROM recovery_cases") == 0)

        _ = try s.request("DELETE", "/admin/faults")
        // A replay of the failed event processes it; a further one is a duplicate.
        #expect(s.json(try s.deliver(event))["status"] as? String == "processed")
        #expect(s.json(try s.deliver(event))["status"] as? String == "duplicate")
        #expect(try s.value("SELECT error IS NULL AND processed FROM events WHERE whop_event_id = $1", [id]).bool == true)
        #expect(try s.count("SELECT count(*) FROM recovery_actions") == 3)
    }

    @Test func rejectedSignaturesAndErrorsMakeWebhookHealthUnhealthy() throws {
        let s = try RunningService(label: "faults_webhooks", environment: ["FAULTS": #"{"reject_signatures":true}"#])
        defer { s.stop() }
        for i in 0..<5 {
            #expect(try s.deliver(Events.make("payment_failed", membership: "mem_rej_\(i)")).status == 401)
        }
        #expect(try eventually {
            try s.request("GET", "/api/health/webhooks").status == 503
        })
        let hooks = s.json(try s.request("GET", "/api/health/webhooks"))
        #expect(hooks["success_rate"] as? Double == 0 || hooks["success_rate"] as? Int == 0)
        #expect(try s.request("GET", "/api/health").status == 503)

        _ = try s.request("DELETE", "/admin/faults")
        #expect(try inject(s, #"{"error_rate":1}"#).status == 200)
        #expect(try s.request("GET", "/api/health/db").status == 500)
        #expect(try inject(s, #"{"error_rate":0,"slow_ms":50}"#).status == 200)
        #expect(try s.request("GET", "/api/health/db").status == 200)
        #expect(try inject(s, #"{"nonsense":1}"#).status == 400)
        #expect(s.json(try s.request("GET", "/admin/faults"))["faults"] != nil)
    }
}
