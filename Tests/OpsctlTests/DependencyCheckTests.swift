import Foundation
import Support
import Testing
import TestSupport

/// The results of a `--format json` report, by step id.
private func results(_ out: ProcessOutput) throws -> [String: [String: Any]] {
    let report = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any], "\(out.stdout)\(out.stderr)")
    let list = try #require(report["results"] as? [[String: Any]])
    return Dictionary(list.map { ($0["id"] as? String ?? "", $0) }) { first, _ in first }
}

private func status(_ result: [String: Any]?) -> String { result?["status"] as? String ?? "missing" }
private func message(_ result: [String: Any]?) -> String { result?["message"] as? String ?? "" }

/// External dependencies as the runbooks call them: a bearer-authenticated API whose token comes from
/// an env var (masked even though the variable's name does not say secret), its rate-limit header,
/// a Shopify-style token header, a provider's Statuspage, plain TCP and DNS — against real local servers.
@Suite("External dependency checks", .serialized)
struct DependencyCheckTests {
    /// Variable names that do not look secret: only the header flag / ${secret.} make them masked.
    static let bearer = "Zq8BRR-dep-4471xJ7"
    static let shopify = "Zq8SHP-dep-9902xJ7"
    static let reference = "Zq8REF-dep-3318xJ7"
    static let fixture = Result { try DependencyAPIServer(bearer: bearer, shopifyToken: shopify) }

    func project() -> Project {
        let p = Project()
        p.env["WHOP_APP_BEARER"] = Self.bearer
        p.env["SHOP_ACCESS"] = Self.shopify
        p.env["APP_REF"] = Self.reference
        return p
    }

    func expectMasked(_ out: ProcessOutput, _ context: String) {
        for value in [Self.bearer, Self.shopify, Self.reference] {
            #expect(!(out.stdout + out.stderr).contains(value), "\(context) leaked a header value")
        }
    }

    @Test func healthSendsTheHeaderFromTheEnvironmentAndMasksIt() throws {
        let server = try Self.fixture.get()
        let p = project()
        let url = server.url("/api/v5/app")
        let denied = try p.opsctl(["health", "--no-database", "--url", url, "--format", "json"])
        #expect(denied.exitCode == 1)
        #expect(message(try results(denied)["endpoint"]).contains("status 401"), "\(denied.stdout)")

        let header = "Authorization: Bearer $WHOP_APP_BEARER"
        for format in ["json", "human", "jsonl", "nagios", "prometheus"] {
            let out = try p.opsctl(["health", "--no-database", "--url", url, "--header", header, "--format", format])
            #expect(out.exitCode == 0, "\(format): \(out.stdout)\(out.stderr)")
            expectMasked(out, "health --format \(format)")
        }
        let braced = try p.opsctl(["health", "--no-database", "--url", url, "--header", "Authorization: Bearer ${WHOP_APP_BEARER}", "--format", "json"])
        #expect(status(try results(braced)["endpoint"]) == "ok", "\(braced.stdout)")
        // The file journal keeps the run's params: the expanded header is there only as ****.
        let journal = try String(contentsOfFile: p.dir.path + "/state/opsctl/journal.jsonl", encoding: .utf8)
        #expect(journal.contains("Authorization"), "the run was journaled with its headers")
        #expect(!journal.contains(Self.bearer), "the journal holds the bearer token")
    }

    @Test func anUnsetVariableOrMalformedHeaderIsAUsageError() throws {
        let p = project()
        let unset = try p.opsctl(["health", "--no-database", "--url", "http://127.0.0.1:1/", "--header", "Authorization: Bearer $NOT_SET_ANYWHERE"])
        #expect(unset.exitCode == 64)
        #expect(unset.stderr.contains("$NOT_SET_ANYWHERE, which is not set"), "\(unset.stderr)")
        let malformed = try p.opsctl(["health", "--no-database", "--url", "http://127.0.0.1:1/", "--header", "no-colon"])
        #expect(malformed.exitCode == 64)
        let limit = try p.opsctl(["health", "--no-database", "--url", "http://127.0.0.1:1/", "--header-warn", "X-RateLimit-Remaining=100"])
        #expect(limit.exitCode == 64)
        #expect(limit.stderr.contains("NAME<NUMBER"), "\(limit.stderr)")
    }

    /// `X-RateLimit-Remaining < 100` warns, `< 10` fails, with the one threshold rule (a limit fires on reaching it).
    @Test(arguments: [("900", "ok", 0), ("100", "warn", 0), ("50", "warn", 0), ("10", "fail", 1), ("none", "warn", 0), ("many", "warn", 0)])
    func rateLimitHeaderThresholds(remaining: String, expected: String, exitCode: Int32) throws {
        let server = try Self.fixture.get()
        let out = try project().opsctl(["health", "--no-database", "--url", server.url("/api/v5/app?remaining=\(remaining)"),
                                        "--header", "Authorization: Bearer $WHOP_APP_BEARER",
                                        "--header-warn", "X-RateLimit-Remaining<100", "--header-crit", "X-RateLimit-Remaining<=10",
                                        "--format", "json"])
        #expect(out.exitCode == exitCode, "\(out.stdout)\(out.stderr)")
        let endpoint = try results(out)["endpoint"]
        #expect(status(endpoint) == expected, "\(message(endpoint))")
        let metrics = endpoint?["metrics"] as? [[String: Any]] ?? []
        let metric = metrics.first { $0["name"] as? String == "header_x_ratelimit_remaining" }
        if let value = Double(remaining) {
            #expect(metric?["value"] as? Double == value)
            #expect(metric?["warn"] as? Double == 100 && metric?["crit"] as? Double == 10)
        } else {
            #expect(metric == nil)
            #expect(message(endpoint).contains(remaining == "none" ? "no X-RateLimit-Remaining header" : "not a number"), "\(message(endpoint))")
        }
    }

    @Test func runbookHeadersFromSecretsAndHeaderLimits() throws {
        let server = try Self.fixture.get()
        let p = project()
        try p.file("deps.yaml", """
            name: deps
            steps:
              - id: shopify
                kind: http.request
                with:
                  url: \(server.url("/admin/shop.json"))
                  headers: { X-Shopify-Access-Token: "${secret.SHOP_ACCESS}" }
                  expect: { shop.name: demo }
              - id: whop
                kind: http.request
                with:
                  url: \(server.url("/api/v5/app?remaining=42&ref=${secret.APP_REF}"))
                  headers: { Authorization: "Bearer ${secret.WHOP_APP_BEARER}" }
                  header_limits: { X-RateLimit-Remaining: { warn_below: 100, crit_below: 10 }, X-RateLimit-Limit: { warn: 1000 } }
            """)
        let out = try p.opsctl(["run", "deps.yaml", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let byID = try results(out)
        #expect(status(byID["shopify"]) == "ok", "\(message(byID["shopify"]))")
        #expect(status(byID["whop"]) == "warn", "\(message(byID["whop"]))")
        #expect(message(byID["whop"]).contains("X-RateLimit-Remaining 42 is at or below 100"), "\(message(byID["whop"]))")
        #expect(message(byID["whop"]).contains("X-RateLimit-Limit 1000 is at or above 1000"), "\(message(byID["whop"]))")
        // The URL (in details) carried APP_REF in a query parameter named like nothing secret: only
        // ${secret.} says it is one.
        expectMasked(out, "run deps.yaml")
        #expect(out.stdout.contains("ref=****"), "\(out.stdout)")

        try p.file("bad.yaml", """
            name: bad
            steps:
              - id: both
                kind: http.request
                with: { url: http://127.0.0.1:1/, header_limits: { X-A: { warn: 1, crit_below: 2 } } }
            """)
        // Checked when the runbook loads: invalid input, with its place.
        let bad = try p.opsctl(["run", "bad.yaml", "--format", "json"])
        #expect(bad.exitCode == 65)
        #expect(bad.stderr.contains("bad.yaml:") && bad.stderr.contains("not both or neither"), "\(bad.stderr)")
    }

    @Test(arguments: [("none", "ok"), ("minor", "warn"), ("major", "fail"), ("critical", "fail"), ("maintenance", "error"), ("broken", "error")])
    func statuspageIndicator(indicator: String, expected: String) throws {
        let server = try Self.fixture.get()
        let p = project()
        // The page URL as an operator writes it, and the status.json URL itself.
        try p.file("status.yaml", """
            name: status
            steps:
              - id: page
                kind: statuspage
                with: { url: "\(server.url("/\(indicator)"))" }
              - id: json
                kind: statuspage
                with: { url: "\(server.url("/\(indicator)/api/v2/status.json"))" }
            """)
        let out = try p.opsctl(["run", "status.yaml", "--format", "json"])
        #expect(out.exitCode == (expected == "ok" || expected == "warn" ? 0 : 1), "\(out.stdout)\(out.stderr)")
        let byID = try results(out)
        for id in ["page", "json"] {
            #expect(status(byID[id]) == expected, "\(indicator): \(message(byID[id]))")
        }
        if expected != "error" {
            #expect(message(byID["page"]).hasPrefix("Whop: "), "\(message(byID["page"]))")
            #expect(message(byID["page"]).contains("(indicator \(indicator))"))
        }
    }

    @Test func tcpConnectAndDNS() throws {
        let server = try Self.fixture.get()
        let p = project()
        try p.file("net.yaml", """
            name: net
            steps:
              - id: open
                kind: tcp.connect
                with: { address: "127.0.0.1:\(server.port)", connect_crit: 10s }
              - id: url
                kind: tcp.connect
                with: { address: "\(server.url("/api"))" }
              - id: slow
                kind: tcp.connect
                with: { address: "localhost:\(server.port)", connect_warn: 0ms }
              - id: closed
                kind: tcp.connect
                with: { address: "127.0.0.1:1", timeout: 2s }
              - id: localhost
                kind: dns.resolve
                with: { host: localhost, family: ipv4, expect: [127.0.0.1] }
              - id: elsewhere
                kind: dns.resolve
                with: { host: localhost, family: ipv4, expect: [192.0.2.1] }
              - id: slow-dns
                kind: dns.resolve
                with: { host: "http://localhost:8080/x", latency_warn: 0ms }
              - id: nowhere
                kind: dns.resolve
                with: { host: no-such-host.invalid, timeout: 3s }
            """)
        let out = try p.opsctl(["run", "net.yaml", "--format", "json"])
        #expect(out.exitCode == 1)
        let byID = try results(out)
        let expected = ["open": "ok", "url": "ok", "slow": "warn", "closed": "fail",
                        "localhost": "ok", "elsewhere": "fail", "slow-dns": "warn", "nowhere": "fail"]
        for (id, want) in expected {
            #expect(status(byID[id]) == want, "\(id): \(message(byID[id]))")
        }
        #expect(message(byID["open"]).contains("accepts connections (127.0.0.1:\(server.port))"), "\(message(byID["open"]))")
        #expect(message(byID["closed"]).contains("does not accept connections"), "\(message(byID["closed"]))")
        #expect(message(byID["closed"]).lowercased().contains("refused"), "\(message(byID["closed"]))")
        #expect(message(byID["localhost"]).contains("localhost → 127.0.0.1"), "\(message(byID["localhost"]))")
        #expect(message(byID["elsewhere"]).contains("none of the expected 192.0.2.1"), "\(message(byID["elsewhere"]))")
        #expect(message(byID["nowhere"]).contains("no-such-host.invalid"), "\(message(byID["nowhere"]))")
        let metrics = byID["open"]?["metrics"] as? [[String: Any]] ?? []
        #expect(metrics.contains { $0["name"] as? String == "connect" && $0["crit"] as? Double == 10_000 })
    }
}

/// `redis.ping` against a real redis-server that requires a password (one with quotes, spaces and `%`).
@Suite("redis.ping against redis-server", .enabled(if: RedisServer.shouldRun), .serialized)
struct RedisPingTests {
    static let password = "Zq8RDS \"p'w\" 50%zz xJ7"
    static let server = Result { try RedisServer(password: password) }

    func run(_ steps: String, env: [String: String] = [:]) throws -> (ProcessOutput, [String: [String: Any]]) {
        let p = Project()
        p.env["CACHE_PASS"] = Self.password
        for (k, v) in env { p.env[k] = v }
        try p.file("redis.yaml", "name: redis\nsteps:\n" + steps)
        let out = try p.opsctl(["run", "redis.yaml", "--format", "json"])
        for fragment in ["Zq8RDS", "50%zz"] {
            #expect(!(out.stdout + out.stderr).contains(fragment), "the Redis password leaked")
        }
        return (out, try results(out))
    }

    @Test func authAndPing() throws {
        let redis = try Self.server.get()
        let encoded = Self.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let (out, byID) = try run("""
              - id: ok
                kind: redis.ping
                with: { address: "127.0.0.1:\(redis.port)", password_env: CACHE_PASS, latency_crit: 10s }
              - id: url
                kind: redis.ping
                with: { url_env: CACHE_URL }
              - id: acl-user
                kind: redis.ping
                with: { address: "redis://localhost:\(redis.port)", username: default, password_env: CACHE_PASS }
              - id: slow
                kind: redis.ping
                with: { address: "127.0.0.1:\(redis.port)", password_env: CACHE_PASS, latency_warn: 0ms }
              - id: no-auth
                kind: redis.ping
                with: { address: "127.0.0.1:\(redis.port)" }
              - id: wrong
                kind: redis.ping
                with: { address: "127.0.0.1:\(redis.port)", password_env: WRONG_PASS }
              - id: down
                kind: redis.ping
                with: { address: "127.0.0.1:1", password_env: CACHE_PASS, timeout: 2s }
            """, env: ["CACHE_URL": "redis://:\(encoded)@127.0.0.1:\(redis.port)/0", "WRONG_PASS": "not-the-password"])
        #expect(out.exitCode == 1)
        let expected = ["ok": "ok", "url": "ok", "acl-user": "ok", "slow": "warn", "no-auth": "fail", "wrong": "fail", "down": "fail"]
        for (id, want) in expected {
            #expect(status(byID[id]) == want, "\(id): \(message(byID[id]))")
        }
        #expect(message(byID["ok"]).contains("answered PONG"), "\(message(byID["ok"]))")
        #expect(message(byID["no-auth"]).contains("NOAUTH"), "\(message(byID["no-auth"]))")
        #expect(message(byID["wrong"]).contains("AUTH refused: WRONGPASS"), "\(message(byID["wrong"]))")
        #expect(message(byID["down"]).contains("unreachable"), "\(message(byID["down"]))")
    }

    @Test func anUnsetPasswordVariableIsAnError() throws {
        let redis = try Self.server.get()
        let (out, byID) = try run("""
              - id: unset
                kind: redis.ping
                with: { address: "127.0.0.1:\(redis.port)", password_env: NOT_SET_ANYWHERE }
            """)
        #expect(out.exitCode == 1)
        #expect(status(byID["unset"]) == "error")
        #expect(message(byID["unset"]).contains("NOT_SET_ANYWHERE is not set"), "\(message(byID["unset"]))")
    }
}
