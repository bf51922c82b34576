import Foundation
import Postgres
import Support
import Testing
import TestSupport

/// The results of a `--format json` report, by step id.
private func byID(_ out: ProcessOutput) throws -> [String: [String: Any]] {
    let report = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any], "\(out.stdout)\(out.stderr)")
    let list = try #require(report["results"] as? [[String: Any]])
    return Dictionary(list.map { ($0["id"] as? String ?? "", $0) }) { first, _ in first }
}

private func status(_ result: [String: Any]?) -> String { result?["status"] as? String ?? "missing" }
private func message(_ result: [String: Any]?) -> String { result?["message"] as? String ?? "" }

/// `freshness` on a real scheduler table: a stale cron table turns red, a counter that stops moving too.
@Suite("freshness: is the cron job still working?", .enabled(if: TestDatabase.available), .serialized)
struct FreshnessTests {
    let url: String
    let project: Project

    init() throws {
        url = try TestDatabase.fresh("freshness")
        let db = try PostgresConnection(dsn: url)
        defer { db.close() }
        try db.execute("""
            CREATE TABLE nudges (id serial PRIMARY KEY, job text NOT NULL, last_nudge_at timestamptz, attempts int NOT NULL DEFAULT 0);
            CREATE TABLE never_run (id int, done_at timestamp);
            INSERT INTO nudges (job, last_nudge_at, attempts) VALUES
              ('recent', now() - interval '10 minutes', 1), ('slow', now() - interval '3 hours', 2), ('dead', now() - interval '30 hours', 5);
            """)
        project = Project(databaseURL: url)
        try project.file("liveness.yaml", """
            name: liveness
            params:
              job: { type: string, default: recent }
            steps:
              - id: recent
                kind: freshness
                with: { table: nudges, column: last_nudge_at, where: "job = ${params.job}", warn: 1h, crit: 6h }
              - id: slow
                kind: freshness
                with: { table: public.nudges, column: last_nudge_at, where: "job = 'slow'", warn: 1h, crit: 6h }
              - id: dead
                kind: freshness
                with: { table: nudges, column: last_nudge_at, where: "job = 'dead'", crit: 26h }
              - id: empty
                kind: freshness
                with: { table: never_run, column: done_at, crit: 1h }
              - id: empty-warns
                kind: freshness
                with: { table: never_run, column: done_at, crit: 1h, empty: warn }
            """)
    }

    @Test func newestRowAgainstItsLimits() throws {
        let out = try project.opsctl(["run", "liveness.yaml", "--format", "json"])
        #expect(out.exitCode == 1, "\(out.stdout)\(out.stderr)")
        let results = try byID(out)
        let expected = ["recent": "ok", "slow": "warn", "dead": "fail", "empty": "fail", "empty-warns": "warn"]
        for (id, want) in expected {
            #expect(status(results[id]) == want, "\(id): \(message(results[id]))")
        }
        #expect(message(results["dead"]).contains("1.3 days old"), "\(message(results["dead"]))")
        #expect(message(results["dead"]).contains("limit 1.1 days"), "\(message(results["dead"]))")
        #expect(message(results["empty"]).contains("no rows in never_run.done_at"), "\(message(results["empty"]))")
        let metric = (results["slow"]?["metrics"] as? [[String: Any]])?.first
        #expect(metric?["name"] as? String == "age" && metric?["warn"] as? Double == 3600 && metric?["crit"] as? Double == 21600)
        // A bound parameter selects the stale job: the same step now fails.
        let bound = try project.opsctl(["run", "liveness.yaml", "--param", "job=dead", "--step", "recent", "--format", "json"])
        #expect(status(try byID(bound)["recent"]) == "fail", "\(bound.stdout)")
    }

    /// `attempts` must keep moving: the first run records it, an unchanged sum is judged by how long it has
    /// been unchanged (state in opsctl.health_state), a change is ok again.
    @Test func counterThatStopsMovingTurnsRed() throws {
        try project.file("counter.yaml", """
            name: counter
            steps:
              - id: every-run
                kind: freshness
                with: { table: nudges, counter: attempts, crit: 0s }
              - id: hours
                kind: freshness
                with: { table: nudges, counter: attempts, where: "job <> 'dead'", warn: 1h, crit: 6h }
            """)
        func run() throws -> [String: [String: Any]] { try byID(project.opsctl(["run", "counter.yaml", "--format", "json"])) }
        let first = try run()
        #expect(status(first["every-run"]) == "ok" && message(first["every-run"]).hasPrefix("first run"), "\(message(first["every-run"]))")
        let second = try run()
        #expect(status(second["every-run"]) == "fail", "\(message(second["every-run"]))")
        #expect(message(second["every-run"]).contains("still 8, unchanged for"), "\(message(second["every-run"]))")
        #expect(status(second["hours"]) == "ok", "\(message(second["hours"]))")

        // Three hours without change: back-date when the counter last changed, as three hours of runs would.
        let db = try PostgresConnection(dsn: url)
        defer { db.close() }
        try db.execute("UPDATE opsctl.health_state SET value = extract(epoch FROM now() - interval '3 hours') WHERE key = 'changed_at'")
        let third = try run()
        #expect(status(third["hours"]) == "warn", "\(message(third["hours"]))")
        #expect(message(third["hours"]).contains("unchanged for 3.0 h"), "\(message(third["hours"]))")

        try db.execute("UPDATE nudges SET attempts = attempts + 1 WHERE job = 'recent'")
        let moved = try run()
        #expect(status(moved["every-run"]) == "ok" && message(moved["every-run"]).contains("moved from 8 to 9"), "\(message(moved["every-run"]))")
        #expect(status(moved["hours"]) == "ok", "\(message(moved["hours"]))")
    }

    @Test func columnOrCounterNotBoth() throws {
        try project.file("both.yaml", """
            name: both
            steps:
              - id: both
                kind: freshness
                with: { table: nudges, column: last_nudge_at, counter: attempts, crit: 1h }
            """)
        let out = try project.opsctl(["run", "both.yaml", "--format", "json"])
        #expect(out.exitCode == 65)
        #expect(out.stderr.contains("both.yaml:") && out.stderr.contains("either column"), "\(out.stderr)")
    }
}

/// `opsctl history --check 'daily<26h'`: opsctl's own dead-man's switch, read from the Postgres journal.
@Suite("history --check: the dead-man's switch", .enabled(if: TestDatabase.available), .serialized)
struct HistoryCheckTests {
    @Test func staleOrMissingDailyRunIsCritical() throws {
        let url = try TestDatabase.fresh("history_check")
        let p = Project(databaseURL: url)
        try p.file("daily.yaml", "name: daily\nsteps:\n  - id: work\n    kind: shell\n    with: { command: 'true', readonly: true }\n")
        try p.file("broken.yaml", "name: daily\nsteps:\n  - id: work\n    kind: shell\n    with: { command: 'exit 1', readonly: true }\n")
        #expect(try p.opsctl(["run", "daily.yaml"]).exitCode == 0)

        let fresh = try p.opsctl(["history", "--check", "daily<26h", "--format", "nagios"])
        #expect(fresh.exitCode == 0, "\(fresh.stdout)\(fresh.stderr)")
        #expect(fresh.stdout.hasPrefix("OPSCTL OK"), "\(fresh.stdout)")
        #expect(fresh.stdout.contains("'daily_since_success'="), "perfdata: \(fresh.stdout)")

        // A failed run after the success does not reset the clock, but is mentioned.
        #expect(try p.opsctl(["run", "broken.yaml"]).exitCode == 1)
        let afterFailure = try p.opsctl(["history", "--check", "daily<26h", "--format", "json"])
        #expect(afterFailure.exitCode == 0)
        #expect(message(try byID(afterFailure)["daily"]).contains("ended fail"), "\(afterFailure.stdout)")

        // The successful run is 30 hours old: past the limit.
        let db = try PostgresConnection(dsn: url)
        defer { db.close() }
        try db.execute("UPDATE opsctl.runs SET started_at = started_at - interval '30 hours' WHERE runbook = 'daily'")
        let stale = try p.opsctl(["history", "--check", "daily<26h", "--format", "nagios"])
        #expect(stale.exitCode == 2, "\(stale.stdout)\(stale.stderr)")
        #expect(stale.stdout.hasPrefix("OPSCTL CRITICAL"), "\(stale.stdout)")
        let human = try p.opsctl(["history", "--check", "daily<26h", "--check", "daily<2d"])
        #expect(human.exitCode == 1, "one of two limits passed: \(human.stdout)")
        #expect(human.stdout.contains("last succeeded 30.0 h ago"), "\(human.stdout)")
        #expect(human.stdout.contains("longer than 26.0 h"), "\(human.stdout)")

        let never = try p.opsctl(["history", "--check", "weekly<8d", "--format", "json"])
        #expect(never.exitCode == 1)
        #expect(message(try byID(never)["weekly"]).contains("no successful run"), "\(never.stdout)")

        let prometheus = try p.opsctl(["history", "--check", "daily<2d", "--format", "prometheus", "--output", "check.prom"])
        #expect(prometheus.exitCode == 0, "\(prometheus.stderr)")
        #expect(try String(contentsOfFile: p.dir.path + "/check.prom", encoding: .utf8).contains("since_success"))
    }

    @Test func malformedCheckIsAUsageError() throws {
        let p = Project()
        for bad in ["daily", "daily<", "<26h", "daily<soon", "daily>26h"] {
            let out = try p.opsctl(["history", "--check", bad])
            #expect(out.exitCode == 64, "\(bad): \(out.stderr)")
        }
        #expect(try p.opsctl(["history", "--format", "nagios"]).exitCode == 64, "nagios without --check")
    }
}
