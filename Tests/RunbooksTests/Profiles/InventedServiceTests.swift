import Checks
import Foundation
import Postgres
import Support
import Testing
import TestSupport

/// A service that is none of opsctl's profiles: its own table and column names, status strings,
/// health path and Stripe signing, declared in opsctl.yaml alone. Its receiver (a Python script)
/// verifies signatures with the official `stripe` library, not with opsctl's code.
@Suite(.enabled(if: TestDatabase.available), .serialized)
final class InventedServiceTests {
    static let secret = "whsec_acme_" + String(repeating: "k", count: 24)

    struct Failure: Error, CustomStringConvertible { var description: String }

    let databaseURL: String
    let directory = TemporaryDirectory()
    var receiver: PythonFixture?
    var port = 0

    init() throws {
        databaseURL = try TestDatabase.fresh("acme")
        let db = try PostgresConnection(dsn: databaseURL)
        defer { db.close() }
        _ = try db.query("""
            CREATE TABLE acme_hooks (
                hook_id    text PRIMARY KEY,
                kind       text NOT NULL,
                body       jsonb NOT NULL,
                state      text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'done', 'dead')),
                tries      int NOT NULL DEFAULT 0,
                failure    text,
                arrived_at timestamptz NOT NULL DEFAULT now())
            """)
        _ = try db.query("CREATE TABLE acme_deliveries (hook_id text NOT NULL, at timestamptz NOT NULL DEFAULT now())")
        try start()
    }

    deinit { stop() }

    /// Stripe-shaped events: `dead` ones the handler failed on, `done` ones, one fresh `queued` one.
    func seed(dead: Int, done: Int = 2, queued: Int = 1) throws {
        let db = try PostgresConnection(dsn: databaseURL)
        defer { db.close() }
        let rows = [("dead", dead), ("done", done), ("queued", queued)]
        for (state, count) in rows {
            for _ in 0..<count {
                let id = "evt_" + UUID().uuidString.prefix(12).lowercased()
                let body = "{\"id\":\"\(id)\",\"object\":\"event\",\"type\":\"invoice.payment_failed\",\"created\":1760000000,\"data\":{\"object\":{\"id\":\"in_1\",\"object\":\"invoice\"}}}"
                _ = try db.query("""
                    INSERT INTO acme_hooks (hook_id, kind, body, state, tries, failure, arrived_at)
                    VALUES ($1, 'invoice.payment_failed', $2::jsonb, $3, $4, $5, now() - $6::interval)
                    """, [id, body, state, state == "queued" ? 0 : 1, state == "dead" ? "handler crashed" : nil,
                          state == "queued" ? "1 minute" : "2 hours"])
            }
        }
    }

    func start() throws {
        let fixture = try PythonFixture(script: "acme_receiver.py", arguments: [databaseURL], environment: ["ACME_STRIPE_SECRET": Self.secret])
        port = fixture.port
        receiver = fixture
    }

    /// The receiver goes down (SIGKILL, on release of the fixture).
    func stop() {
        receiver = nil
    }

    var config: String {
        """
        environments:
          local:
            base_url: http://127.0.0.1:\(port)
            database_url_env: ACME_DATABASE_URL
        service:
          health:
            - { path: /healthz, expect: { service: acme }, latency_crit: 5s }
          events:
            table: acme_hooks
            provider_id: hook_id
            type: kind
            payload: body
            received_at: arrived_at
            state: { column: state, pending: queued, processed: done, failed: dead }
            error: failure
            attempts: tries
          provider:
            scheme: stripe
            secret_env: ACME_STRIPE_SECRET
            webhook_path: /hooks/stripe
        """
    }

    func opsctl(_ arguments: [String], config: String? = nil) throws -> ProcessOutput {
        _ = try directory.write("opsctl.yaml", config ?? self.config)
        return try Opsctl.run(arguments, env: ["ACME_DATABASE_URL": databaseURL, "ACME_STRIPE_SECRET": Self.secret],
                              directory: directory.path)
    }

    func count(_ sql: String) throws -> Int {
        let db = try PostgresConnection(dsn: databaseURL)
        defer { db.close() }
        return try db.query(sql).first?["n"].int ?? -1
    }

    @Test func healthChecksTheDeclaredEndpointAndRelativeURLs() throws {
        let declared = try opsctl(["health", "--no-database"])
        #expect(declared.exitCode == 0, "\(declared.stdout)\(declared.stderr)")
        #expect(declared.stdout.contains("/healthz"), "\(declared.stdout)")
        let relative = try opsctl(["health", "--no-database", "--url", "/healthz"])
        #expect(relative.exitCode == 0, "\(relative.stdout)\(relative.stderr)")
        // The declared latency_crit reaches the endpoint step (5s in this opsctl.yaml).
        let json = try opsctl(["health", "--no-database", "--format", "json"])
        #expect(json.stdout.contains("\"crit\" : 5000"), "\(json.stdout)")
        let missing = try opsctl(["health", "--no-database", "--url", "/nope"])
        #expect(missing.exitCode == 1, "\(missing.stdout)\(missing.stderr)")
    }

    @Test func replayFailedDeliversEachDeadHookOnceAndTheyEndDone() throws {
        try seed(dead: 3)
        let dry = try opsctl(["replay", "--failed", "--dry-run"])
        #expect(dry.exitCode == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("would replay 3 event(s)"), "\(dry.stdout)")
        #expect(try count("SELECT count(*) AS n FROM acme_deliveries") == 0)

        let run = try opsctl(["replay", "--failed", "--verify", "--verify-wait", "20s"])
        #expect(run.exitCode == 0, "\(run.stdout)\(run.stderr)")
        #expect(try count("SELECT count(*) AS n FROM acme_hooks WHERE state = 'dead'") == 0)
        #expect(try count("SELECT count(*) AS n FROM acme_hooks WHERE state = 'done'") == 5)
        #expect(try count("SELECT count(*) AS n FROM acme_hooks WHERE state = 'queued'") == 1, "a fresh queued hook is not failed")
        #expect(try count("SELECT count(*) AS n FROM acme_deliveries") == 3)
        #expect(try count("SELECT count(*) AS n FROM (SELECT hook_id FROM acme_deliveries GROUP BY 1 HAVING count(*) > 1) d") == 0)

        let again = try opsctl(["replay", "--failed", "--dry-run"])
        #expect(again.stdout.contains("would replay 0 event(s)"), "\(again.stdout)")
    }

    @Test func receiverDownTurnsHealthAndReplayRed() throws {
        try seed(dead: 2)
        stop()
        let health = try opsctl(["health", "--no-database", "--format", "json"])
        #expect(health.exitCode == 1, "\(health.stdout)\(health.stderr)")
        let replay = try opsctl(["replay", "--failed", "--max-attempts", "1", "--format", "json"])
        #expect(replay.exitCode == 1, "\(replay.stdout)\(replay.stderr)")
        let steps = (JSONValue.parse(replay.stdout)?["results"]?.array) ?? []
        let red = steps.first { $0["id"]?.string == "replay" }
        #expect(red?["status"]?.string == "fail", "\(replay.stdout)")
        #expect(try count("SELECT count(*) AS n FROM acme_hooks WHERE state = 'dead'") == 2, "nothing marked done while down")
    }

    @Test func doctorChecksTheMappingAgainstTheDatabaseAndEndpoints() throws {
        let ok = try opsctl(["doctor"])
        #expect(ok.exitCode == 0, "\(ok.stdout)\(ok.stderr)")
        let wrong = config.replacingOccurrences(of: "error: failure", with: "error: failure_text")
            .replacingOccurrences(of: "failed: dead", with: "failed: failed")
        let bad = try opsctl(["doctor", "--format", "json"], config: wrong)
        #expect(bad.exitCode == 1, "\(bad.stdout)\(bad.stderr)")
        #expect(bad.stdout.contains("acme_hooks has no column failure_text: fix the service.events key naming it"), "\(bad.stdout)")
        #expect(bad.stdout.contains("state value 'failed' is not allowed by acme_hooks's CHECK on state"), "\(bad.stdout)")
        stop()
        let down = try opsctl(["doctor", "--format", "json"])
        #expect(down.exitCode == 1, "\(down.stdout)\(down.stderr)")
        let steps = (JSONValue.parse(down.stdout)?["results"]?.array) ?? []
        #expect(steps.first { $0["id"]?.string == "mapping" }?["status"]?.string == "ok", "\(down.stdout)")
        #expect(steps.contains { ($0["id"]?.string ?? "").hasPrefix("endpoint") && ["fail", "error"].contains($0["status"]?.string ?? "") }, "\(down.stdout)")
    }

    @Test func providerDiffComparesAgainstTheDeclaredEventStore() throws {
        try seed(dead: 1, done: 0, queued: 0)
        let db = try PostgresConnection(dsn: databaseURL)
        let present = try #require(try db.query("SELECT hook_id FROM acme_hooks").first?["hook_id"].string)
        db.close()
        let export = try directory.write("export.jsonl", """
            {"id":"\(present)","object":"event","type":"invoice.payment_failed"}
            {"id":"evt_never_received","object":"event","type":"invoice.paid"}

            """)
        let runbook = try directory.write("diff.yaml", """
            name: diff
            steps:
              - id: diff
                kind: reconcile.provider_diff
                with: { file: \(export) }
            """)
        let result = try opsctl(["run", runbook])
        #expect(result.exitCode == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("1 of 2 provider events missing"), "\(result.stdout)")
    }

    // MARK: - init + an edited opsctl.yaml, and nothing else (issue 14: no forked runbook, no shell glue)

    /// The user's path: `opsctl init`, then opsctl.yaml edited — base_url, database_url_env, and the
    /// service: block in place of `profile: churn-saver`. Returns the edited text.
    func initializedAndEdited() throws -> String {
        try? FileManager.default.removeItem(atPath: directory.path + "/opsctl.yaml")
        let initialized = try Opsctl.run(["init", "--profile", "churn-saver", "--dir", "."], env: [:], directory: directory.path)
        guard initialized.exitCode == 0 else { throw Failure(description: "opsctl init: \(initialized.stdout)\(initialized.stderr)") }
        let written = try String(contentsOfFile: directory.path + "/opsctl.yaml", encoding: .utf8)
        let block = try #require(config.components(separatedBy: "\nservice:\n").last)
        let edited = written
            .replacingOccurrences(of: "base_url: http://127.0.0.1:8080", with: "base_url: http://127.0.0.1:\(port)")
            .replacingOccurrences(of: "database_url_env: DATABASE_URL", with: "database_url_env: ACME_DATABASE_URL")
            .replacingOccurrences(of: "service:\n  profile: churn-saver\n", with: "service:\n\(block)\n")
        guard edited.contains("table: acme_hooks"), !edited.contains("\n  profile: churn-saver") else {
            throw Failure(description: "opsctl init's file changed shape:\n\(written)")
        }
        _ = try directory.write("migrations/001_acme_settings.sql", "CREATE TABLE acme_settings (key text PRIMARY KEY, value text);\n")
        _ = try directory.write("migrations/001_acme_settings.down.sql", "DROP TABLE acme_settings;\n")
        return edited
    }

    static func results(_ out: ProcessOutput) -> [String: JSONValue] {
        Dictionary((JSONValue.parse(out.stdout)?["results"]?.array ?? []).map { ($0["id"]?.string ?? "", $0) }) { a, _ in a }
    }

    @Test func verifyHealthReconcileAndDailyWorkFromInitAndAnEditedConfig() throws {
        try seed(dead: 0, done: 2, queued: 1)
        let edited = try initializedAndEdited()
        let migrate = try opsctl(["migrate", "apply", "--no-journal"], config: edited)
        #expect(migrate.exitCode == 0, "\(migrate.stdout)\(migrate.stderr)")

        let verify = try opsctl(["verify", "--format", "json"], config: edited)
        #expect(verify.exitCode == 0, "\(verify.stdout)\(verify.stderr)")
        let v = Self.results(verify)
        #expect(v["health"]?["title"]?.string == "/healthz" && v["health"]?["status"]?.string == "ok", "\(verify.stdout)")
        for id in ["database", "schema-version", "send-test-event", "test-event-processed", "remove-test-event", "event-backlog"] {
            #expect(v[id]?["status"]?.string == "ok", "\(id): \(v[id] ?? .null)")
        }
        // No log tables declared, no profile: no metric steps at all, rather than failing ones.
        #expect(v["webhook-success"] == nil && v["api-errors"] == nil, "\(v.keys.sorted())")
        #expect(try count("SELECT count(*) AS n FROM acme_hooks WHERE hook_id LIKE 'opsctl\\_synthetic\\_%'") == 0, "the synthetic event was removed")

        let health = try opsctl(["health", "--format", "json"], config: edited)
        #expect(health.exitCode == 0, "\(health.stdout)\(health.stderr)")
        #expect(Self.results(health)["endpoint"]?["title"]?.string == "/healthz", "\(health.stdout)")

        let reconcile = try opsctl(["reconcile", "--format", "json"], config: edited)
        #expect(reconcile.exitCode == 0, "\(reconcile.stdout)\(reconcile.stderr)")
        let r = Self.results(reconcile)
        for id in ["unprocessed", "errors-by-type", "duplicate-provider-ids"] {
            #expect(r[id]?["status"]?.string == "ok", "\(id): \(r[id] ?? .null)")
        }

        let daily = try opsctl(["run", "daily", "--format", "json"], config: edited)
        #expect(daily.exitCode == 0, "\(daily.stdout)\(daily.stderr)")
        #expect(Self.results(daily)["event-backlog"]?["status"]?.string == "ok", "\(daily.stdout)")

        let db = try PostgresConnection(dsn: databaseURL)
        let done = try #require(try db.query("SELECT hook_id FROM acme_hooks WHERE state = 'done' LIMIT 1").first?["hook_id"].string)
        db.close()
        let event = try opsctl(["reconcile", "event", done], config: edited)
        #expect(event.exitCode == 0, "\(event.stdout)\(event.stderr)")
        #expect(event.stdout.contains("event \(done) invoice.payment_failed: processed"), "\(event.stdout)")
    }

    @Test func failedAndStuckHooksTurnReconcileAndDailyRedWithARemediation() throws {
        try seed(dead: 2, done: 1, queued: 0)
        let edited = try initializedAndEdited()
        let reconcile = try opsctl(["reconcile", "--format", "json"], config: edited)
        #expect(reconcile.exitCode == 1, "\(reconcile.stdout)\(reconcile.stderr)")
        let r = Self.results(reconcile)
        #expect(r["unprocessed"]?["status"]?.string == "fail", "\(reconcile.stdout)")
        #expect(r["unprocessed"]?["message"]?.string?.hasPrefix("2 events unprocessed for more than 15 min") == true, "\(reconcile.stdout)")
        #expect(r["unprocessed"]?["remediation"]?.string?.contains("opsctl replay --failed --stale 15m --verify") == true)
        #expect(r["errors-by-type"]?["status"]?.string == "warn")
        #expect(r["errors-by-type"]?["message"]?.string?.hasPrefix("2 events with errors (invoice.payment_failed 2)") == true, "\(reconcile.stdout)")

        let daily = try opsctl(["run", "daily", "--format", "json"], config: edited)
        #expect(daily.exitCode == 1, "\(daily.stdout)\(daily.stderr)")
        let backlog = Self.results(daily)["event-backlog"]
        #expect(backlog?["status"]?.string == "fail" && backlog?["remediation"]?.string?.contains("opsctl replay --failed") == true, "\(daily.stdout)")

        let db = try PostgresConnection(dsn: databaseURL)
        let dead = try #require(try db.query("SELECT hook_id FROM acme_hooks WHERE state = 'dead' LIMIT 1").first?["hook_id"].string)
        db.close()
        let event = try opsctl(["reconcile", "event", dead], config: edited)
        #expect(event.stdout.contains("failed (handler crashed), 1 attempt(s), 0 replay(s)"), "\(event.stdout)")
        let missing = try opsctl(["reconcile", "event", "evt_never"], config: edited)
        #expect(missing.exitCode == 1 && missing.stdout.contains("not in acme_hooks"), "\(missing.stdout)")

        // Replayed, the same checks go green: the verbs read one mapping.
        let replay = try opsctl(["replay", "--failed", "--verify", "--verify-wait", "20s"], config: edited)
        #expect(replay.exitCode == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(try opsctl(["reconcile"], config: edited).exitCode == 0)
        let replayed = try opsctl(["reconcile", "event", dead], config: edited)
        #expect(replayed.stdout.contains("processed") && replayed.stdout.contains("1 replay(s)"), "\(replayed.stdout)")
    }

    /// verify, health and rollback check every declared endpoint, one step each titled by its path,
    /// each with its own expect_status, expect and latency limits.
    @Test func everyDeclaredEndpointIsItsOwnStepWithItsOwnLimits() throws {
        let two = config.replacingOccurrences(of: "    - { path: /healthz, expect: { service: acme }, latency_crit: 5s }",
                                              with: "    - { path: /healthz, expect: { service: acme }, latency_crit: 5s }\n    - { path: /gone, expect_status: 404 }")
        #expect(two != config)
        let health = try opsctl(["health", "--no-database", "--format", "json"], config: two)
        #expect(health.exitCode == 0, "\(health.stdout)\(health.stderr)")
        let h = Self.results(health)
        #expect(h["endpoint-1"]?["title"]?.string == "/healthz" && h["endpoint-2"]?["title"]?.string == "/gone", "\(h.keys.sorted())")
        #expect(health.stdout.contains("\"crit\" : 5000"), "endpoint 1's own latency_crit: \(health.stdout)")
        for (runbook, extra) in [("verify", ["--param", "roundtrip=false"]), ("rollback", ["--param", "mode=status"])] {
            let out = try opsctl(["run", runbook, "--only", "health-1,health-2", "--format", "json", "--no-journal"] + extra, config: two)
            #expect(out.exitCode == 0, "\(runbook): \(out.stdout)\(out.stderr)")
            let r = Self.results(out)
            #expect(r["health-1"]?["status"]?.string == "ok" && r["health-2"]?["status"]?.string == "ok", "\(runbook): \(out.stdout)")
            #expect((r["health-1"]?["title"]?.string ?? "").hasPrefix("/healthz") && (r["health-2"]?["title"]?.string ?? "").hasPrefix("/gone"))
        }
        // A declared expectation the service does not meet fails that endpoint's step, and only it.
        let wrong = two.replacingOccurrences(of: "expect_status: 404", with: "expect_status: 200")
        let red = try opsctl(["run", "verify", "--only", "health-1,health-2", "--param", "roundtrip=false", "--format", "json", "--no-journal"], config: wrong)
        #expect(red.exitCode == 1)
        #expect(Self.results(red)["health-1"]?["status"]?.string == "ok" && Self.results(red)["health-2"]?["status"]?.string == "fail", "\(red.stdout)")
    }
}
