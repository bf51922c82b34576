import Foundation
import Testing
import TestSupport

/// Health endpoints on a service of their own (other suites' rejected deliveries would lower its webhook success rate).
@Suite(.enabled(if: TestDatabase.available))
struct HealthTests {
    @Test func healthIsHealthyWithItsChecks() throws {
        let s = try RunningService(label: "health")
        defer { s.stop() }
        let response = try s.request("GET", "/api/health")
        #expect(response.status == 200)
        let body = s.json(response)
        #expect(body["status"] as? String == "healthy")
        #expect(body["timestamp"] is String)
        let checks = try #require(body["checks"] as? [String: Any])
        #expect(Set(checks.keys) == ["database", "webhooks", "queue"])

        let narrowed = s.json(try s.request("GET", "/api/health?type=db"))
        #expect((narrowed["checks"] as? [String: Any]).map { Array($0.keys) } == ["database"])
        #expect(try s.request("GET", "/api/health?type=nope").status == 400)
    }

    @Test func healthPartsAnswerWithTheirMetrics() throws {
        let s = try RunningService(label: "health")
        defer { s.stop() }
        let db = try s.request("GET", "/api/health/db")
        #expect(db.status == 200)
        #expect(s.json(db)["latency_ms"] is Double || s.json(db)["latency_ms"] is Int)

        let hooks = s.json(try s.request("GET", "/api/health/webhooks"))
        for key in ["success_rate", "p50_ms", "p95_ms", "p99_ms", "total"] {
            #expect(hooks[key] != nil, "missing \(key)")
        }
        let external = try s.request("GET", "/api/health/external")
        #expect(external.status == 200)
        #expect(s.json(external)["status"] as? String == "healthy")
    }
}
