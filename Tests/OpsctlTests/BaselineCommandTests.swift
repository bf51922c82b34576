import Foundation
import Postgres
import Support
import Testing
import TestSupport

private func report(_ out: ProcessOutput) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any], "\(out.stdout)\(out.stderr)")
}

private func results(_ out: ProcessOutput) throws -> [String: [String: Any]] {
    let list = try #require(try report(out)["results"] as? [[String: Any]])
    return Dictionary(list.map { ($0["id"] as? String ?? "", $0) }) { first, _ in first }
}

private func message(_ r: [String: Any]?) -> String { r?["message"] as? String ?? "" }
private func status(_ r: [String: Any]?) -> String { r?["status"] as? String ?? "missing" }

/// Issue 16 item 2 end to end: "a deploy whose error rate rises against its baseline fails while one at
/// baseline passes" with the shipped churn-saver service-metrics, recorded runs as baselines, canary vs
/// stable with --baseline-env, and logs analyze --baseline.
@Suite("baselines: opsctl run / verify / logs", .enabled(if: TestDatabase.available), .serialized)
struct BaselineCommandTests {
    let blue: String
    let green: String
    let project: Project

    init() throws {
        blue = try TestDatabase.fresh("baseline_cli_blue")
        green = try TestDatabase.fresh("baseline_cli_green")
        for url in [blue, green] {
            let db = try PostgresConnection(dsn: url)
            defer { db.close() }
            // The columns of the churn-saver schema the shipped service-metrics reads.
            try db.execute("""
                CREATE TABLE webhook_logs (id bigint GENERATED ALWAYS AS IDENTITY, status text NOT NULL, duration_ms bigint NOT NULL,
                                           created_at timestamptz NOT NULL DEFAULT now());
                CREATE TABLE api_request_logs (id bigint GENERATED ALWAYS AS IDENTITY, status_code int NOT NULL, duration_ms bigint NOT NULL,
                                               created_at timestamptz NOT NULL DEFAULT now());
                CREATE TABLE circuit_breaker_metrics (service text NOT NULL, state text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
                """)
        }
        project = Project(databaseURL: blue)
        project.env["GREEN_DATABASE_URL"] = green
        try project.file("opsctl.yaml", """
            default_environment: blue
            environments:
              blue:
                database_url_env: DATABASE_URL
              green:
                database_url_env: GREEN_DATABASE_URL
            """)
        // A windowed metric with its baseline chosen by a param; ${window.*} written inline in the SQL.
        try project.file("errors.yaml", """
            name: errors
            params:
              baseline: { type: string, default: last-ok }
            steps:
              - id: api-errors
                kind: sql.query
                with:
                  sql: |
                    SELECT count(*) AS requests,
                           coalesce(100.0 * count(*) FILTER (WHERE status_code >= 500) / nullif(count(*), 0), 0)::float8 AS error_pct
                      FROM api_request_logs WHERE created_at > ${window.start} AND created_at <= ${window.end}
                  window: 15m
                  baseline: ${params.baseline}
                  baseline_missing: ok
                  thresholds:
                    error_pct: { warn: 50, crit: 90, increase_pct: { warn: 50, crit: 100 } }
            """)
    }

    /// Replaces the request log: per batch, `requests` rows `minutesAgo` old, the first `errors` of them 5xx.
    func seed(_ url: String, _ batches: [(minutesAgo: Int, requests: Int, errors: Int)], webhooksFailed: Int = 0) throws {
        let db = try PostgresConnection(dsn: url)
        defer { db.close() }
        try db.execute("TRUNCATE api_request_logs, webhook_logs")
        for b in batches {
            try db.query("""
                INSERT INTO api_request_logs (status_code, duration_ms, created_at)
                SELECT CASE WHEN i <= $2 THEN 503 ELSE 200 END, 40, now() - make_interval(mins => $3)
                  FROM generate_series(1, $1::int) i
                """, [b.requests, b.errors, b.minutesAgo])
            try db.query("""
                INSERT INTO webhook_logs (status, duration_ms, created_at)
                SELECT CASE WHEN i <= $1::int THEN 'failed' ELSE 'success' END, 30, now() - make_interval(mins => $2::int)
                  FROM generate_series(1, 200) i
                """, [b.minutesAgo == 5 ? webhooksFailed : 0, b.minutesAgo])
        }
    }

    /// The shipped churn-saver service-metrics (what verify includes): 5xx doubled after the deploy fails,
    /// the same rate as the window before passes, webhooks failing more than before fail too.
    @Test func shippedServiceMetricsAfterADeploy() throws {
        try seed(blue, [(20, 200, 4), (5, 200, 8)])
        let doubled = try project.opsctl(["run", "service-metrics", "--format", "json", "--no-journal"])
        #expect(doubled.exitCode == 1, "\(doubled.stdout)\(doubled.stderr)")
        let api = try results(doubled)["api-errors"]
        #expect(status(api) == "fail", "\(message(api))")
        #expect(message(api).contains("vs previous 15m: error_pct 4 vs 2 (+2, +100%)"), "\(message(api))")
        let metrics = (api?["metrics"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        #expect(metrics.contains("error_pct_change_pct") && metrics.contains("error_pct_baseline"), "\(metrics)")
        // Every consumer sees why: the change with its limit in JUnit's text, a gauge per value in Prometheus.
        let junit = try project.opsctl(["run", "service-metrics", "--format", "junit", "--no-journal"])
        #expect(junit.stdout.contains("metric error_pct_change_pct = 100 % (warn 50) (crit 100)"), "\(junit.stdout)")
        #expect(junit.stdout.contains("metric error_pct_baseline = 2 %"), "\(junit.stdout)")
        let prometheus = try project.opsctl(["run", "service-metrics", "--format", "prometheus", "--no-journal"])
        #expect(prometheus.stdout.contains(#"step="api-errors",metric="error_pct_change_pct",unit="%"} 100"#), "\(prometheus.stdout)")

        try seed(blue, [(20, 200, 1), (5, 200, 1)])
        let steady = try project.opsctl(["run", "service-metrics", "--format", "json", "--no-journal"])
        #expect(steady.exitCode == 0, "\(steady.stdout)\(steady.stderr)")
        #expect(status(try results(steady)["api-errors"]) == "ok")

        // "No increase in failed delivery metrics": success 100 % → 97 % is −3 points (decrease_abs warn 2).
        try seed(blue, [(20, 200, 0), (5, 200, 0)], webhooksFailed: 6)
        let webhooks = try results(try project.opsctl(["run", "service-metrics", "--format", "json", "--no-journal"]))["webhook-success"]
        #expect(status(webhooks) == "warn", "\(message(webhooks))")
        #expect(message(webhooks).contains("success_pct decrease_abs 3 ≥ warn 2"), "\(message(webhooks))")
    }

    /// `baseline: last-ok` and `run:<id>` read the values real journaled runs recorded.
    @Test func recordedRunsAsBaselines() throws {
        try seed(blue, [(5, 100, 2)])
        let first = try project.opsctl(["run", "errors.yaml", "--format", "json"])
        #expect(first.exitCode == 0, "\(first.stdout)\(first.stderr)")
        // No ok run yet: nothing to compare with (baseline_missing: ok lets this first run pass and be recorded).
        #expect(message(try results(first)["api-errors"]).contains("no baseline (no ok run of this runbook in this environment yet)"))
        let firstID = try #require(try report(first)["run_id"] as? String)

        // After the "deploy" 6 %: three times the last ok run's 2 %.
        try seed(blue, [(5, 100, 6)])
        let second = try project.opsctl(["run", "errors.yaml", "--format", "json"])
        #expect(second.exitCode == 1, "\(second.stdout)\(second.stderr)")
        let api = try results(second)["api-errors"]
        #expect(message(api).contains("vs last ok run \(firstID): error_pct 6 vs 2 (+4, +200%)"), "\(message(api))")
        let secondID = try #require(try report(second)["run_id"] as? String)

        // last-ok skips the failed run; run:<id> names it.
        let again = try project.opsctl(["run", "errors.yaml", "--format", "json"])
        #expect(message(try results(again)["api-errors"]).contains("last ok run \(firstID)"))
        let named = try project.opsctl(["run", "errors.yaml", "--param", "baseline=run:\(secondID)", "--format", "json"])
        #expect(named.exitCode == 0, "\(named.stdout)\(named.stderr)")
        #expect(message(try results(named)["api-errors"]).contains("vs run \(secondID): error_pct 6 vs 6"))
        let unknown = try project.opsctl(["run", "errors.yaml", "--param", "baseline=run:nope", "--format", "json"])
        #expect(message(try results(unknown)["api-errors"]).contains("no run nope in the journal"), "\(unknown.stdout)")
    }

    /// Canary vs stable: `--baseline-env green` runs the same query over the same window on green's database.
    @Test func canaryAgainstStable() throws {
        try seed(blue, [(5, 100, 8)])
        try seed(green, [(5, 100, 4), (20, 100, 8)])
        let canary = try project.opsctl(["run", "errors.yaml", "--param", "baseline=previous", "--baseline-env", "green",
                                         "--format", "json", "--no-journal"])
        #expect(canary.exitCode == 1, "\(canary.stdout)\(canary.stderr)")
        #expect(message(try results(canary)["api-errors"]).contains("vs env green: error_pct 8 vs 4 (+4, +100%)"), "\(canary.stdout)")
        try seed(green, [(5, 100, 8)])
        let same = try project.opsctl(["run", "errors.yaml", "--param", "baseline=previous", "--baseline-env", "green",
                                       "--format", "json", "--no-journal"])
        #expect(same.exitCode == 0, "\(same.stdout)\(same.stderr)")
        let bad = try project.opsctl(["run", "errors.yaml", "--baseline-env", "purple", "--no-journal"])
        #expect(bad.exitCode == 65 && bad.stderr.contains("unknown environment 'purple'"), "\(bad.stderr)")
    }

    /// `${window.*}` is sql.query's: anywhere else it is refused when the runbook loads (exit 65, file:line:col).
    @Test func windowReferencesOutsideSQLQueryAreRefused() throws {
        try project.file("shellwindow.yaml", """
            name: shellwindow
            steps:
              - id: echo
                kind: shell
                with: { command: "echo ${window.start}" }
            """)
        let out = try project.opsctl(["run", "shellwindow.yaml", "--no-journal"])
        #expect(out.exitCode == 65, "\(out.stdout)\(out.stderr)")
        #expect(out.stderr.contains("shellwindow.yaml:3:") && out.stderr.contains("exists only in sql.query steps"), "\(out.stderr)")
        try project.file("nowindow.yaml", """
            name: nowindow
            steps:
              - id: q
                kind: sql.query
                with: { sql: "SELECT count(*) AS n FROM api_request_logs WHERE created_at > ${window.start}" }
            """)
        let missing = try project.opsctl(["run", "nowindow.yaml", "--no-journal", "--format", "json"])
        #expect(missing.exitCode == 1, "\(missing.stdout)\(missing.stderr)")
        #expect(message(try results(missing)["q"]).contains("set window:"), "\(missing.stdout)")
    }

    @Test func logsAnalyzeAgainstYesterdaysFile() throws {
        func lines(_ errors: Int) -> String {
            (0..<100).map { i in #"{"time":"2026-11-28T10:00:\#(String(format: "%02d", i % 60))Z","level":"\#(i < errors ? "error" : "info")","msg":"req"}"# }
                .joined(separator: "\n") + "\n"
        }
        let yesterday = try project.file("yesterday.log", lines(2))
        let today = try project.file("today.log", lines(4))
        let rule = ["--threshold", "error_rate_increase_pct>=100:fail"]
        let risen = try project.opsctl(["logs", "analyze", today, "--baseline", yesterday] + rule)
        #expect(risen.exitCode == 1, "\(risen.stdout)\(risen.stderr)")
        #expect(risen.stdout.contains("vs file \(yesterday): error rate 4 % vs 2 % (+2, +100%)"), "\(risen.stdout)")
        let steady = try project.opsctl(["logs", "analyze", yesterday, "--baseline", yesterday, "--format", "nagios"] + rule)
        #expect(steady.exitCode == 0, "\(steady.stdout)\(steady.stderr)")
        #expect(steady.stdout.contains("error_rate_change_pct"), "\(steady.stdout)")
        let noBaseline = try project.opsctl(["logs", "analyze", today] + rule)
        #expect(noBaseline.exitCode == 64 && noBaseline.stderr.contains("add --baseline"), "\(noBaseline.stderr)")

        // The logs.analyze kind: `baseline:` resolves from opsctl.yaml's directory like `files:`.
        try project.file("logcheck.yaml", """
            name: logcheck
            steps:
              - id: api-logs
                kind: logs.analyze
                with: { files: [today.log], baseline: yesterday.log, thresholds: ["error_rate_increase_pct>=100:fail"] }
            """)
        let step = try project.opsctl(["run", "logcheck.yaml", "--format", "json", "--no-journal"])
        #expect(step.exitCode == 1, "\(step.stdout)\(step.stderr)")
        let api = try results(step)["api-logs"]
        #expect(message(api).contains("vs file \(yesterday): error rate 4 % vs 2 % (+2, +100%)"), "\(message(api))")
        #expect((api?["metrics"] as? [[String: Any]])?.contains { $0["name"] as? String == "error_rate_change_pct" && $0["crit"] as? Double == 100 } == true)
    }
}
