import Foundation
import Postgres
import Testing
import TestSupport

/// `opsctl maintain retention` as an operator runs it: policies from opsctl.yaml, a dry-run, and runs
/// killed with SIGKILL mid-batch that the next run finishes with not one row lost or archived twice.
@Suite("opsctl maintain retention", .enabled(if: TestDatabase.available), .serialized)
struct RetentionCommandTests {
    static let asOf = "2026-06-01T00:00:00Z"
    static let old = "created_at < timestamptz '\(asOf)' - interval '30 days'"

    func scalar(_ url: String, _ sql: String) throws -> String? { try Probe.scalar(url, sql) }

    func project(_ label: String) throws -> (Project, String) {
        let url = try TestDatabase.fresh(label)
        let db = try PostgresConnection(dsn: url)
        defer { db.close() }
        // 3280 old rows in each table (plus 720 recent): 80 batches of 40 keys with a pause take seconds.
        try db.execute("""
            CREATE TABLE logs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, line text, created_at timestamptz NOT NULL);
            INSERT INTO logs (line, created_at) SELECT 'line ' || g, timestamptz '\(Self.asOf)' - g * interval '1 hour' FROM generate_series(1, 4000) g;
            CREATE TABLE events (id bigserial PRIMARY KEY, status text NOT NULL, created_at timestamptz NOT NULL);
            INSERT INTO events (status, created_at)
            SELECT CASE WHEN g % 4 = 0 THEN 'pending' ELSE 'processed' END, timestamptz '\(Self.asOf)' - g * interval '1 hour'
              FROM generate_series(1, 4000) g;
            CREATE TABLE snapshot AS SELECT 'logs' AS t, id FROM logs UNION ALL SELECT 'events', id FROM events;
            """)
        let p = Project(databaseURL: url)
        try p.file("archive/.keep", "")
        try p.file("opsctl.yaml", """
            environments:
              local: {}
            service:
              retention:
                - name: logs
                  table: logs
                  time_column: created_at
                  older_than: 30d
                  archive: { file: "archive/logs-{date}.jsonl" }
                  batch: { target: 200ms, max_rows: 40, pause: 25ms, lock_timeout: 100ms }
                - table: events
                  time_column: created_at
                  older_than: 30d
                  where: "status = 'processed'"
                  archive: { table: events_archive }
                  batch: { target: 200ms, max_rows: 40, pause: 25ms, lock_timeout: 100ms }
            """)
        return (p, url)
    }

    /// Starts a run and kills it with SIGKILL once `policy` has committed a few batches.
    func killMidRun(_ p: Project, _ url: String, policy: String) throws {
        let run = try p.spawn(["maintain", "retention", "--as-of", Self.asOf])
        let reached = eventually(timeout: 60) {
            let batches = (try? scalar(url, "SELECT batches FROM opsctl.retention_progress WHERE policy = '\(policy)' AND finished_at IS NULL")) ?? nil
            return (batches.flatMap { Int($0) } ?? 0) >= 3
        }
        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()
        #expect(reached, "the run never got three batches into \(policy)")
        #expect(try scalar(url, "SELECT exhausted::text FROM opsctl.retention_progress WHERE policy = '\(policy)'") == "false", "killed before \(policy) finished")
    }

    @Test func killedTwiceThenFinishedLeavesTheExactFinalState() throws {
        let (p, url) = try project("ret_kill9")
        let expectedLogs = try #require(Int(try scalar(url, "SELECT count(*) FROM logs WHERE \(Self.old)") ?? ""))
        let expectedEvents = try #require(Int(try scalar(url, "SELECT count(*) FROM events WHERE status = 'processed' AND \(Self.old)") ?? ""))

        let dry = try p.opsctl(["maintain", "retention", "--dry-run", "--as-of", Self.asOf])
        #expect(dry.exitCode == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("would delete logs: \(expectedLogs) rows, events: \(expectedEvents) rows"), "\(dry.stdout)")

        try killMidRun(p, url, policy: "logs")
        let partial = try #require(try FileManager.default.contentsOfDirectory(atPath: p.dir.path + "/archive").first { $0.hasSuffix(".partial") })
        // Killed again, this time inside the table-archived policy.
        try killMidRun(p, url, policy: "events")

        let finish = try p.opsctl(["maintain", "retention", "--as-of", Self.asOf])
        #expect(finish.exitCode == 0, "\(finish.stdout)\(finish.stderr)")
        #expect(finish.stdout.contains("(resumed)"), "\(finish.stdout)")

        // The tables hold exactly what the policies keep.
        #expect(try scalar(url, "SELECT count(*) FROM logs WHERE \(Self.old)") == "0")
        #expect(try scalar(url, "SELECT count(*) FROM logs") == "\(4000 - expectedLogs)")
        #expect(try scalar(url, "SELECT count(*) FROM events WHERE status = 'processed' AND \(Self.old)") == "0")
        #expect(try scalar(url, "SELECT count(*) FROM events") == "\(4000 - expectedEvents)")
        // The archive table has every deleted event once; kept + archived = the original set.
        #expect(try scalar(url, "SELECT count(*) FROM events_archive") == "\(expectedEvents)")
        #expect(try scalar(url, "SELECT count(DISTINCT id) FROM events_archive") == "\(expectedEvents)")
        #expect(try scalar(url, """
            SELECT count(*) FROM (SELECT id FROM snapshot WHERE t = 'events' EXCEPT ALL (SELECT id FROM events UNION ALL SELECT id FROM events_archive)) lost
            """) == "0")
        // The archive file appeared under its final name with every deleted log line once.
        let files = try FileManager.default.contentsOfDirectory(atPath: p.dir.path + "/archive").filter { $0.hasPrefix("logs-") }
        #expect(files.count == 1 && !files[0].hasSuffix(".partial") && partial.hasPrefix(files[0]), "\(files)")
        let lines = try String(contentsOfFile: p.dir.path + "/archive/" + files[0], encoding: .utf8).split(separator: "\n")
        let ids = lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }.compactMap { $0["id"] as? Int }
        #expect(ids.count == expectedLogs && Set(ids).count == expectedLogs, "\(ids.count) lines, \(Set(ids).count) distinct, \(expectedLogs) deleted")
        let kept = try #require(try scalar(url, "SELECT string_agg(id::text, ',') FROM logs")).split(separator: ",").compactMap { Int($0) }
        #expect(Set(kept).isDisjoint(with: ids) && kept.count + ids.count == 4000, "every log row is kept or archived, never both")
    }

    @Test func anUnknownRetentionKeyIsAnInputErrorWithItsPosition() throws {
        let p = Project()
        try p.file("opsctl.yaml", """
            environments:
              local: {}
            service:
              retention:
                - table: logs
                  time_column: created_at
                  older_than: 30d
                  batch: { max_row: 10 }
            """)
        let out = try p.opsctl(["maintain", "retention", "--dry-run"])
        #expect(out.exitCode == 65, "\(out.stdout)\(out.stderr)")
        #expect(out.stderr.contains("opsctl.yaml:8:") && out.stderr.contains("max_row") && out.stderr.contains("max_rows"), "\(out.stderr)")
    }
}
