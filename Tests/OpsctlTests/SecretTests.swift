import Foundation
import Postgres
import Support
import Testing
import TestSupport

/// A canary secret must never leave the process, whatever the format or path.
@Suite("Secrets are masked")
struct SecretTests {
    static let canary = "canary-Zq8vX3pL0mN2"

    @Test(arguments: ["human", "json", "jsonl", "junit", "tap", "nagios", "prometheus"])
    func canaryNeverAppears(format: String) throws {
        let p = Project()
        p.env["WHOP_API_KEY"] = Self.canary
        p.env["DATABASE_URL"] = "postgresql://app:\(Self.canary)@127.0.0.1:1/app?connect_timeout=1"
        try p.file("leak.yaml", """
            name: leak
            params: { token: "\(Self.canary)" }
            steps:
              - { id: echo, kind: shell, with: { command: "echo key=$WHOP_API_KEY; echo ${params.token} >&2; exit 1", readonly: true } }
              - { id: db, kind: postgres.connect }
              - id: header
                kind: http.request
                with: { url: "http://127.0.0.1:1/", headers: { Authorization: "Bearer ${env.WHOP_API_KEY}" }, timeout: 1s }
            """)
        let out = try p.opsctl(["run", "leak.yaml", "--format", format, "--output", "report.out"])
        let written = (try? String(contentsOfFile: p.dir.path + "/report.out", encoding: .utf8)) ?? ""
        #expect(!written.isEmpty)
        for text in [out.stdout, out.stderr, written] {
            #expect(!text.contains(Self.canary), "canary leaked in \(format)")
        }
        if format != "prometheus" { #expect(written.contains("****"), "the secret is shown masked, not dropped") }
        let journal = (try? String(contentsOfFile: p.dir.path + "/state/opsctl/journal.jsonl", encoding: .utf8)) ?? ""
        #expect(!journal.isEmpty)
        #expect(!journal.contains(Self.canary))
        let explain = try p.opsctl(["explain", "leak.yaml"])
        #expect(!explain.stdout.contains(Self.canary))
    }

    @Test(arguments: ["junit", "tap"])
    func shellOutputCannotInjectIntoFormats(format: String) throws {
        let p = Project()
        try p.file("inject.yaml", """
            steps:
              - id: evil
                kind: shell
                with:
                  command: "printf '</failure></testcase><testcase name=\\"fake\\"/>\\nok 99 - fake pass\\n# SKIP\\n]]>\\001'; exit 1"
                  readonly: true
            """)
        let out = try p.opsctl(["run", "inject.yaml", "--format", format, "--no-journal"])
        #expect(out.exitCode == 1)
        if format == "junit" {
            #expect(!out.stdout.contains("<testcase name=\"fake\""))
            #expect(out.stdout.components(separatedBy: "<testcase ").count == 2)
        } else {
            #expect(!out.stdout.split(separator: "\n").contains { $0.hasPrefix("ok 99") })
        }
    }
}

/// Canaries holding quotes, `%`, spaces and unicode — a secret declared under `secrets:`, the webhook
/// secret, a database URL password, a secret-named param and a URL query token — run through every
/// verb in every format, then looked for in stdout, stderr, the report file, the Postgres journal
/// (opsctl.runs, opsctl.step_results) and the file journal. Each canary starts with `Zq8` and ends
/// with `xJ7`, so a cut secret leaves a detectable head or tail.
@Suite("Canary secrets never leave opsctl", .enabled(if: TestDatabase.available), .serialized)
struct CanaryTests {
    static let upstreamLogin = "Zq8KEY-CANARY-0042b \"q' 50%zz ✓xJ7"
    static let webhookSecret = "Zq8WHK-CANARY-\"77%zz 'é whsec xJ7"
    static let dbPassword = "Zq8pw\"CANARY-77%zz 'ü xJ7"
    static let apiToken = "Zq8TOK-CANARY-55 \"x' %zz ☃xJ7"
    static let queryToken = "Zq8QRY-CANARY-91xJ7"
    /// In a variable whose name says nothing secret: masked because `--header` or `${secret.}` read it.
    static let headerValue = "Zq8HDR-CANARY-\"h' 33%zz xJ7"
    static let fragments = ["Zq8", "CANARY", "xJ7"]
    static let formats = ["human", "json", "jsonl", "junit", "tap", "nagios", "prometheus"]

    final class Fixture: @unchecked Sendable {
        let project: Project
        let fileProject: Project
        let server: StaticHTTPServer
        let database: String

        init() throws {
            database = try TestDatabase.fresh("canary")
            let encoded = CanaryTests.dbPassword.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let url = database.replacingOccurrences(of: "://postgres@", with: "://postgres:\(encoded)@")
            // 290 characters, then the secret: the 300-character body excerpt cuts through it.
            server = try StaticHTTPServer(files: [
                "page.txt": String(repeating: "b", count: 290) + CanaryTests.upstreamLogin + " end",
                "api/health": #"{"status":"healthy"}"#,
            ])
            project = Project(databaseURL: url)
            fileProject = Project(databaseURL: "postgresql://app:\(encoded)@127.0.0.1:1/none?connect_timeout=1")
            for p in [project, fileProject] {
                p.env["UPSTREAM_LOGIN"] = CanaryTests.upstreamLogin
                p.env["WHOP_WEBHOOK_SECRET"] = CanaryTests.webhookSecret
                p.env["UPSTREAM_APP_REF"] = CanaryTests.headerValue
                try p.file("opsctl.yaml", """
                    default_environment: local
                    environments:
                      local:
                        base_url: \(server.url().dropLast())
                        database_url_env: DATABASE_URL
                        webhook: { scheme: whop, secret_env: WHOP_WEBHOOK_SECRET, path: /api/webhooks/whop }
                        migrations: { dir: migrations }
                        secrets: [UPSTREAM_LOGIN]
                    """)
                try p.file("migrations/001_canary.sql", "CREATE TABLE canary_t (x text);\n")
                try p.file("migrations/001_canary.down.sql", "DROP TABLE canary_t;\n")
                let escaped = SecretMasker.jsonEscaped(CanaryTests.upstreamLogin)
                try p.file("app.log", """
                    {"level":50,"time":"2026-01-01T00:00:00Z","msg":"upstream refused key \(escaped) \u{1B}]52;c;cHduZWQ=\u{07}","user":"\(escaped)"}
                    {"level":50,"time":"2026-01-01T00:00:01Z","msg":"\(String(repeating: "x", count: 390)) \(escaped)","user":"bob"}
                    {"level":50,"time":"2026-01-01T00:00:02Z","msg":"GET \(server.url())x?token=\(CanaryTests.queryToken) failed","user":"bob"}

                    """)
                try p.file("leak.yaml", """
                    name: leak
                    params:
                      api_token: { type: string, required: true }
                    steps:
                      - id: echo
                        kind: shell
                        with:
                          readonly: true
                          command: >-
                            printf '%0110d' 0; echo " $UPSTREAM_LOGIN"; head -c 5000 /dev/zero | tr '\\0' x;
                            echo "$UPSTREAM_LOGIN ${params.api_token}" >&2; printf 'tail %s' "$UPSTREAM_LOGIN";
                            echo "app ${secret.UPSTREAM_APP_REF}"; exit 1
                      - id: setup
                        kind: sql.exec
                        with: { sql: "CREATE TABLE IF NOT EXISTS canary_t (x text)" }
                      - id: change
                        kind: sql.exec
                        needs: [setup]
                        with: { sql: "UPDATE canary_t SET x = ${params.api_token} WHERE x = $1", params: ["${env.UPSTREAM_LOGIN}"] }
                      - id: read
                        kind: sql.query
                        with: { sql: "SELECT ${params.api_token}::text AS t, $1::text AS k", params: ["${env.UPSTREAM_LOGIN}"], message: "{t} {k}" }
                      - id: body
                        kind: http.request
                        with:
                          url: "\(server.url())page.txt?token=\(CanaryTests.queryToken)"
                          headers: { Authorization: "Bearer ${env.UPSTREAM_LOGIN}" }
                          expect_status: 500
                    """)
            }
        }
    }

    static let fixture = Result { try Fixture() }

    /// Every verb that reports, with arguments that make it touch the secrets.
    static let verbs: [[String]] = [
        ["run", "leak.yaml", "--param", "api_token=\(apiToken)"],
        ["run", "leak.yaml", "--dry-run", "--param", "api_token=\(apiToken)"],
        ["run", "logs", "--param", "files=app.log"],
        ["logs", "analyze", "app.log"],
        ["health", "--url", "http://127.0.0.1:1/?token=\(queryToken)"],
        ["health", "--url", "/api/health", "--header", "X-App-Ref: $UPSTREAM_APP_REF", "--header", "Authorization: Bearer ${UPSTREAM_APP_REF}"],
        ["predeploy"],
        ["migrate", "status"],
        ["verify"],
        ["rollback", "--mode", "status"],
        ["replay", "--failed", "--dry-run"],
        ["reconcile", "payment", "pay_1"],
        ["webhook", "send", "--type", "payment_succeeded"],
    ]

    func expectNoCanary(_ text: String, _ context: @autoclosure () -> String) {
        for fragment in Self.fragments where text.contains(fragment) {
            let at = text.range(of: fragment)!
            let around = text[(text.index(at.lowerBound, offsetBy: -150, limitedBy: text.startIndex) ?? text.startIndex)..<(text.index(at.upperBound, offsetBy: 100, limitedBy: text.endIndex) ?? text.endIndex)]
            Issue.record("canary fragment '\(fragment)' leaked in \(context()): …\(around)…")
        }
    }

    @Test(arguments: verbs)
    func neverInAnyFormatOrJournal(verb: [String]) throws {
        let fixture = try Self.fixture.get()
        for (project, journal) in [(fixture.project, "postgres"), (fixture.fileProject, "file")] {
            for format in Self.formats {
                let out = try project.opsctl(verb + ["--format", format, "--output", "report.out"], timeout: 60)
                let written = (try? String(contentsOfFile: project.dir.path + "/report.out", encoding: .utf8)) ?? ""
                try? FileManager.default.removeItem(atPath: project.dir.path + "/report.out")
                #expect(out.exitCode != 64 && out.exitCode != 65, "\(verb) \(format): \(out.stderr)")
                #expect(!(written + out.stdout).isEmpty, "\(verb) \(format) wrote nothing: \(out.stderr)")
                for (name, text) in [("stdout", out.stdout), ("stderr", out.stderr), ("report", written)] {
                    expectNoCanary(text, "\(verb.prefix(2).joined(separator: " ")) --format \(format) \(name) (\(journal) journal)")
                }
                if format == "human" || format == "json" {
                    #expect(!(written + out.stderr).contains("\u{1B}]52"), "escape sequence printed by \(verb) \(format)")
                }
            }
        }
        let db = try PostgresConnection(dsn: fixture.database)
        defer { db.close() }
        if try db.query("SELECT to_regclass('opsctl.runs') IS NOT NULL AS ok").first?["ok"].bool == true {
            let runs = try db.query("SELECT coalesce(string_agg(r::text, E'\\n'), '') AS t FROM opsctl.runs r").first?["t"].string ?? ""
            let steps = try db.query("SELECT coalesce(string_agg(s::text, E'\\n'), '') AS t FROM opsctl.step_results s").first?["t"].string ?? ""
            expectNoCanary(runs, "opsctl.runs after \(verb)")
            expectNoCanary(steps, "opsctl.step_results after \(verb)")
        }
        let fileJournal = (try? String(contentsOfFile: fixture.fileProject.dir.path + "/state/opsctl/journal.jsonl", encoding: .utf8)) ?? ""
        expectNoCanary(fileJournal, "file journal after \(verb)")
    }

    @Test func journalsHoldRunsWithMaskedSecretParams() throws {
        let fixture = try Self.fixture.get()
        let out = try fixture.project.opsctl(["run", "leak.yaml", "--param", "api_token=\(Self.apiToken)", "--format", "json"])
        #expect(out.exitCode == 1)
        let db = try PostgresConnection(dsn: fixture.database)
        defer { db.close() }
        let params = try db.query("SELECT params::text AS p FROM opsctl.runs WHERE runbook = 'leak' ORDER BY started_at DESC LIMIT 1").first?["p"].string
        #expect(params?.contains("\"api_token\": \"****\"") == true, "\(params ?? "no run")")
        let rows = try db.query("SELECT count(*) AS n FROM opsctl.step_results s JOIN opsctl.runs r USING (run_id) WHERE r.runbook = 'leak'").first?["n"].int ?? 0
        #expect(rows >= 5, "steps were journaled")
    }

    @Test func resumeAsksForMaskedParamsAgain() throws {
        let fixture = try Self.fixture.get()
        let first = try fixture.project.opsctl(["run", "leak.yaml", "--param", "api_token=\(Self.apiToken)", "--format", "json"])
        let runID = try #require(first.stdout.firstMatch(of: /"run_id" : "([^"]+)"/)?.1).description
        let resumed = try fixture.project.opsctl(["run", "leak.yaml", "--resume", runID])
        #expect(resumed.exitCode == 64)
        #expect(resumed.stderr.contains("--param api_token="), "\(resumed.stderr)")
        expectNoCanary(resumed.stdout + resumed.stderr, "resume refusal")
        let given = try fixture.project.opsctl(["run", "leak.yaml", "--resume", runID, "--param", "api_token=\(Self.apiToken)", "--format", "json"])
        #expect(given.exitCode == 1, "\(given.stderr)")
        #expect(given.stdout.contains("ok in run \(runID)"), "finished steps are skipped on resume")
        #expect(!given.stdout.contains("****::text"), "the real value was used, not the placeholder")
    }
}

/// The issue-12 reproductions, through the real CLI: a hostile backup path and a hostile param
/// stay data.
@Suite("Params cannot inject code", .enabled(if: TestDatabase.available), .serialized)
struct InjectionTests {
    @Test func rollbackRestoreBackupPathIsNotRunAsCode() throws {
        let p = Project(databaseURL: try TestDatabase.fresh("inject_restore"))
        for backup in ["/x$(touch pwned-file).dump", "/x`touch pwned-file`.dump", "/x\"; touch pwned-file; echo \".dump",
                       "/x'; touch pwned-file; echo '.dump", "-f/tmp/x\ntouch pwned-file"] {
            let out = try p.opsctl(["rollback", "--mode", "restore", "--backup=" + backup, "--confirm", "yes", "--format", "json"])
            #expect(out.exitCode == 1, "the restore of a missing file fails: \(out.stdout) \(out.stderr)")
            #expect(!FileManager.default.fileExists(atPath: p.dir.path + "/pwned-file"), "backup \(backup) ran as code")
        }
    }

    @Test func sqlExecParamWithQuotesUpdatesNothing() throws {
        let url = try TestDatabase.fresh("inject_sql")
        let db = try PostgresConnection(dsn: url)
        defer { db.close() }
        try db.execute("CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, disabled bool NOT NULL DEFAULT false)")
        try db.execute("INSERT INTO accounts (id, name) VALUES (1, 'alice'), (2, 'bob')")
        let p = Project(databaseURL: url)
        try p.file("disable.yaml", """
            name: disable
            params: { p: { type: string, required: true } }
            steps:
              - id: quoted
                kind: sql.exec
                with: { sql: "UPDATE accounts SET disabled = true WHERE name = '${params.p}'" }
              - id: unquoted
                kind: sql.exec
                with: { sql: "UPDATE accounts SET disabled = true WHERE name = ${params.p}" }
            """)
        let out = try p.opsctl(["run", "disable.yaml", "--param", "p=x' OR '1'='1", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout) \(out.stderr)")
        #expect(try db.query("SELECT count(*) AS n FROM accounts WHERE disabled").first?["n"].int == 0)
        let spliced = try p.file("spliced.yaml", """
            name: spliced
            params: { p: { type: string, required: true } }
            steps:
              - id: cut
                kind: sql.exec
                with: { sql: "DELETE FROM accounts WHERE name LIKE '${params.p}%'" }
            """)
        let refused = try p.opsctl(["run", spliced, "--param", "p=a"])
        #expect(refused.exitCode == 65)
        #expect(refused.stderr.contains("spliced.yaml:6:"), "\(refused.stderr)")
        #expect(refused.stderr.contains("params:"))
        #expect(try db.query("SELECT count(*) AS n FROM accounts").first?["n"].int == 2)
    }
}
