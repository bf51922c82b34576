import Foundation
import HTTP
import Support
import Testing
import TestSupport

/// `opsctl health --watch` over the reference service while its database fault is switched on and
/// off on a timer (/admin/faults): the one report shows the endpoint going ok → fail → ok, and the
/// exit code follows --tolerate.
@Suite("--watch over a flapping service", .enabled(if: TestDatabase.available), .serialized)
struct WatchFlappingServiceTests {
    /// Runs the watch while a background thread breaks the service at `breakAt` and repairs it at `repairAt`.
    func watch(_ service: RunningService, extra: [String] = [], breakAt: Double = 1.5, repairAt: Double = 4) throws -> ProcessOutput {
        let started = Date()
        let flipper = Thread {
            Thread.sleep(until: started.addingTimeInterval(breakAt))
            _ = try? service.request("POST", "/admin/faults", headers: [(name: "Content-Type", value: "application/json")],
                                     body: Array(#"{"db_down":true}"#.utf8))
            Thread.sleep(until: started.addingTimeInterval(repairAt))
            _ = try? service.request("DELETE", "/admin/faults")
        }
        flipper.start()
        let state = TemporaryDirectory()
        return try Opsctl.run(["health", "--no-database", "--url", service.baseURL + "/api/health", "--watch", "7s", "--every", "250ms",
                               "--format", "json"] + extra,
                              env: ["XDG_STATE_HOME": state.path, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"],
                              directory: state.path, timeout: 120)
    }

    func endpoint(_ out: ProcessOutput) throws -> [String: Any] {
        let report = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any], "\(out.stdout)\(out.stderr)")
        let results = try #require(report["results"] as? [[String: Any]])
        return try #require(results.first { $0["id"] as? String == "endpoint" })
    }

    @Test func outageInTheWindowIsReportedWithItsTransitions() throws {
        let service = try RunningService(label: "watch_flap")
        defer { service.stop() }
        let out = try watch(service)
        #expect(out.exitCode == 1, "\(out.stdout)\(out.stderr)")
        let result = try endpoint(out)
        #expect(result["status"] as? String == "fail")
        let watch = (result["details"] as? [String: Any])?["watch"] as? [String: Any] ?? [:]
        let transitions = (watch["transitions"] as? [[String: Any]] ?? []).map { "\($0["from"] ?? "")→\($0["to"] ?? "")" }
        #expect(transitions == ["ok→fail", "fail→ok"], "\(watch)")
        #expect(watch["last_status"] as? String == "ok")
        #expect((watch["non_ok_ms"] as? Double ?? 0) > 0)
    }

    @Test func toleratedOutageIsAWarning() throws {
        let service = try RunningService(label: "watch_tolerate")
        defer { service.stop() }
        let out = try watch(service, extra: ["--tolerate", "1m"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        #expect(try endpoint(out)["status"] as? String == "warn")
    }
}
