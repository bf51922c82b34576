import Foundation
import Support
import Testing
import TestSupport

/// curl's proxy variables (http_proxy, HTTPS_PROXY, ALL_PROXY, NO_PROXY) are honoured as curl honours
/// them: opsctl tells each handle "no proxy" up front only when none is set (so curl stops looking
/// them up per transfer), never when one is.
@Suite("Proxy environment variables")
struct ProxyEnvironmentTests {
    func step(_ url: String) -> String {
        "steps:\n  - { id: get, kind: http.request, with: { url: '\(url)' } }\n"
    }

    func status(_ out: ProcessOutput) throws -> String? {
        let report = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any], "\(out.stdout)\(out.stderr)")
        return (report["results"] as? [[String: Any]])?.first?["status"] as? String
    }

    @Test func httpProxyCarriesTheRequest() throws {
        let proxy = try PythonFixture(script: "proxy_recorder.py")
        let p = Project()
        // A name that never resolves: only a proxy can answer it.
        try p.file("get.yaml", step("http://opsctl-proxied.invalid/health"))
        let direct = try p.opsctl(["run", "get.yaml", "--no-journal", "--format", "json"])
        #expect(try status(direct) != "ok", "without a proxy the name cannot resolve: \(direct.stdout)")
        for name in ["http_proxy", "ALL_PROXY", "all_proxy"] {
            let out = try p.opsctl(["run", "get.yaml", "--no-journal", "--format", "json"], env: [name: "http://127.0.0.1:\(proxy.port)"])
            #expect(out.exitCode == 0, "\(name): \(out.stdout)\(out.stderr)")
            #expect(try status(out) == "ok", "\(name): \(out.stdout)")
        }
    }

    @Test func noProxyNamesHostsReachedDirectly() throws {
        let origin = try PythonFixture(script: "proxy_recorder.py")
        let p = Project()
        try p.file("get.yaml", step(origin.url("/health")))
        // A proxy that refuses connections: a request that goes through it fails.
        let deadProxy = "http://127.0.0.1:1"
        let through = try p.opsctl(["run", "get.yaml", "--no-journal", "--format", "json"], env: ["http_proxy": deadProxy])
        #expect(try status(through) != "ok", "the proxy was not used: \(through.stdout)")
        for name in ["no_proxy", "NO_PROXY"] {
            let bypass = try p.opsctl(["run", "get.yaml", "--no-journal", "--format", "json"], env: ["http_proxy": deadProxy, name: "127.0.0.1"])
            #expect(bypass.exitCode == 0, "\(name): \(bypass.stdout)\(bypass.stderr)")
            #expect(try status(bypass) == "ok", "\(name): \(bypass.stdout)")
        }
    }
}
