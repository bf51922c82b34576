import Foundation
import Postgres
import Testing
import TestSupport

/// Journal, history, show, locks and resume against the sandbox database, through the real CLI.
@Suite("Journal, locks and resume", .enabled(if: TestDatabase.available), .serialized)
struct JournalTests {
    let project: Project

    init() throws {
        project = Project(databaseURL: try TestDatabase.fresh("journal"))
    }

    @Test func runsAreRecordedAndCanBeReRendered() throws {
        try project.file("daily.yaml", "name: daily\nsteps:\n  - { id: one, kind: pause }\n  - { id: two, kind: shell, with: { command: 'exit 1', readonly: true } }\n")
        let run = try project.opsctl(["run", "daily.yaml", "--format", "json", "--actor", "alice"])
        #expect(run.exitCode == 1)
        let runID = try #require(run.stdout.firstMatch(of: /"run_id" : "([^"]+)"/)?.1).description
        let history = try project.opsctl(["history", "--format", "json"])
        #expect(history.exitCode == 0, "\(history.stderr)")
        #expect(history.stdout.contains(runID))
        #expect(history.stdout.contains("\"actor\" : \"alice\""))
        #expect(history.stdout.contains("\"status\" : \"fail\""))
        let show = try project.opsctl(["show", runID, "--format", "junit"])
        #expect(show.exitCode == 1)
        #expect(show.stdout.contains("<testcase"))
        #expect(show.stdout.contains("two"))
    }

    /// Step rows carry the step's start as epoch seconds (to_timestamp on the server): the journal keeps
    /// the instant the report shows, to the millisecond the report prints.
    @Test func stepRowsKeepTheReportedStartTime() throws {
        try project.file("timed.yaml", "name: timed\nsteps:\n  - { id: one, kind: pause }\n  - { id: two, kind: pause, needs: one }\n")
        let run = try project.opsctl(["run", "timed.yaml", "--format", "json"])
        #expect(run.exitCode == 0, "\(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let runID = try #require(report["run_id"] as? String)
        let reported = Dictionary(uniqueKeysWithValues: try #require(report["results"] as? [[String: Any]]).compactMap { r in
            (r["id"] as? String).map { ($0, r["started_at"] as? String ?? "") }
        })
        let db = try PostgresConnection(dsn: try #require(project.env["DATABASE_URL"]))
        defer { db.close() }
        let rows = try db.query("""
            SELECT step_id, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS t
              FROM opsctl.step_results WHERE run_id = $1
            """, [runID]).rows
        #expect(rows.count == 2)
        for row in rows {
            let id = row["step_id"].string ?? ""
            #expect(row["t"].string == reported[id], "step \(id)")
        }
    }

    @Test func secondConcurrentRunIsRefusedWithTheHolder() throws {
        try project.file("deploy.yaml", "name: deploy\nsteps:\n  - { id: slow-change, kind: shell, with: { command: 'sleep 4' } }\n")
        let first = try project.spawn(["run", "deploy.yaml"])
        defer { first.terminate() }
        // Wait until the first run holds its lock (visible as a running run in history).
        #expect(eventually { (try? project.opsctl(["history", "--format", "json"]).stdout.contains("\"running\"")) ?? false })
        let second = try project.opsctl(["run", "deploy.yaml"])
        #expect(second.exitCode == 2)
        let text = second.stdout + second.stderr
        #expect(text.contains("holds the lock"), "\(text)")
        #expect(text.contains("pid "))
        #expect(text.contains("opsctl/deploy/journal"))
        // --wait lets the second run queue behind the first.
        let waited = try project.opsctl(["run", "deploy.yaml", "--wait", "30s"])
        #expect(waited.exitCode == 0, "\(waited.stdout)\(waited.stderr)")
        first.waitUntilExit()
    }

    @Test func aLockKeyFromParamsExcludesOnlyRunsWithTheSameKey() throws {
        try project.file("ship.yaml", """
            name: ship
            params: { service: { type: string, default: api } }
            lock: ship-${params.service}
            steps:
              - { id: change, kind: shell, with: { command: 'sleep 4' } }
            """)
        let first = try project.spawn(["run", "ship.yaml"])
        defer { first.terminate() }
        #expect(eventually { (try? project.opsctl(["history", "--format", "json"]).stdout.contains("\"running\"")) ?? false })
        let same = try project.opsctl(["run", "ship.yaml", "--param", "service=api"])
        #expect(same.exitCode == 2)
        #expect((same.stdout + same.stderr).contains("holds the lock 'opsctl:local:ship-api'"), "\(same.stdout)\(same.stderr)")
        let other = try project.opsctl(["run", "ship.yaml", "--param", "service=worker"])
        #expect(other.exitCode == 0, "another key runs at the same time: \(other.stdout)\(other.stderr)")
        first.waitUntilExit()
    }

    @Test func killedRunIsInterruptedAndResumes() throws {
        try project.file("recover.yaml", """
            name: recover
            params: { seconds: 30 }
            steps:
              - { id: prepare, kind: shell, with: { command: "echo prepared", readonly: true } }
              - { id: long, kind: shell, needs: prepare, with: { command: "sleep ${params.seconds}", readonly: true } }
              - { id: finish, kind: pause, needs: long }
            """)
        let victim = try project.spawn(["run", "recover.yaml"])
        #expect(eventually { (try? project.opsctl(["history", "--format", "json"]).stdout.contains("\"running\"")) ?? false })
        Thread.sleep(forTimeInterval: 0.5) // let 'prepare' finish and be journaled
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        let runID = try #require(project.interruptedRunID(), "a killed run must show as interrupted, not running")
        let resumed = try project.opsctl(["run", "recover.yaml", "--resume", runID, "--param", "seconds=0", "--format", "json"])
        #expect(resumed.exitCode == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("ok in run \(runID)"))
        #expect(resumed.stdout.contains("\"id\" : \"finish\""))
    }

    /// Step rows are written off the scheduler's thread with asynchronous commit: a kill -9 may lose
    /// the rows of the last steps that finished, never claim a step that did not run, and --resume
    /// re-runs exactly the steps after the last journaled one.
    @Test func killNineAmongFastStepsResumesAfterTheLastJournaledStep() throws {
        let count = 400
        var yaml = "name: many\nsteps:\n"
        for i in 1...count { yaml += "  - { id: s\(i), kind: shell, with: { command: \"echo s\(i) >> ran.log\", readonly: true } }\n" }
        try project.file("many.yaml", yaml)
        let log = project.dir.path + "/ran.log"
        func ran() -> [String] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        let victim = try project.spawn(["run", "many.yaml", "--parallel", "1"])
        #expect(eventually(every: 0.002) { ran().count >= 40 })
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        let before = ran()
        try #require(before.count < count, "the run finished before the kill; nothing to resume")
        let runID = try #require(project.interruptedRunID(), "a killed run must show as interrupted")
        let resumed = try project.opsctl(["run", "many.yaml", "--parallel", "1", "--resume", runID, "--format", "json"])
        #expect(resumed.exitCode == 0, "\(resumed.stdout)\(resumed.stderr)")
        // The steps the journal kept: a prefix of what ran (nothing claimed that did not run).
        let kept = resumed.stdout.matches(of: /ok in run/).count
        #expect(kept >= 1 && kept <= before.count, "journaled \(kept), ran \(before.count)")
        #expect(Array(before.prefix(kept)) == (1...max(kept, 1)).prefix(kept).map { "s\($0)" })
        // The resume ran exactly the rest, in order.
        let after = ran()
        #expect(Array(after.dropFirst(before.count)) == ((kept + 1)...count).map { "s\($0)" })
    }

    @Test func interruptWithSigintRunsCleanupAndExitsTwo() throws {
        try project.file("cleanup.yaml", """
            name: cleanup
            steps:
              - { id: long, kind: shell, with: { command: "sleep 30", readonly: true } }
              - { id: tidy, kind: shell, always: true, with: { command: "touch tidied", readonly: true } }
            """)
        let process = try project.spawn(["run", "cleanup.yaml"])
        Thread.sleep(forTimeInterval: 1.0)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2)
        #expect(FileManager.default.fileExists(atPath: project.dir.path + "/tidied"))
    }

    @Test func unreachableDatabaseFallsBackToTheFileJournal() throws {
        let offline = Project()
        try offline.file("x.yaml", "name: x\nsteps:\n  - { id: a, kind: pause }\n")
        #expect(try offline.opsctl(["run", "x.yaml"]).exitCode == 0)
        let history = try offline.opsctl(["history"])
        #expect(history.stdout.contains(" x "), "\(history.stdout)")
        #expect(history.stderr.contains("journal.jsonl"))
    }

    /// The journal's tables are made after the run starts (PostgresJournal): a database that refuses them
    /// (here a role without CREATE on it) gets the run recorded in the file journal, as an unreachable one.
    @Test func aDatabaseRefusingTheTablesGetsTheRunRecordedInTheFile() throws {
        let url = try TestDatabase.fresh("journal_refused")
        let role = "opsctl_no_create_\(getpid())"
        let admin = try PostgresConnection(dsn: url)
        defer {
            _ = try? admin.execute("DROP ROLE IF EXISTS \(role)")
            admin.close()
        }
        try admin.execute("DROP ROLE IF EXISTS \(role); CREATE ROLE \(role) LOGIN")
        let limited = Project(databaseURL: url.replacingOccurrences(of: "postgresql://postgres@", with: "postgresql://\(role)@"))
        try limited.file("x.yaml", "name: x\nsteps:\n  - { id: a, kind: pause }\n  - { id: b, kind: pause, needs: a }\n")
        let run = try limited.opsctl(["run", "x.yaml", "--format", "json"])
        #expect(run.exitCode == 0, "\(run.stdout)\(run.stderr)")
        #expect(try admin.query("SELECT to_regnamespace('opsctl') IS NULL AS none").first?["none"].bool == true)
        let history = try limited.opsctl(["history", "--format", "json"])
        #expect(history.exitCode == 0, "\(history.stderr)")
        #expect(history.stdout.contains("\"runbook\" : \"x\""), "\(history.stdout)")
        #expect(history.stdout.contains("\"status\" : \"ok\""), "\(history.stdout)")
        let lines = try String(contentsOfFile: limited.dir.path + "/state/opsctl/journal.jsonl", encoding: .utf8)
        #expect(lines.components(separatedBy: "step_finished").count - 1 == 2, "both steps recorded in the file")
    }

    /// The journal makes its tables while the run's first steps start: `migrate apply` on a database
    /// without schema opsctl creates it for the migration history at the same moment. Both go through
    /// one lock (OpsctlSchema), so neither fails with a duplicate schema.
    @Test func migrateOnAFreshDatabaseAndTheJournalCreateTheSchemaTogether() throws {
        for round in 0..<4 {
            let url = try TestDatabase.fresh("journal_migrate_race_\(round)")
            let p = Project(databaseURL: url)
            try p.file("migrations/001_one.sql", "CREATE TABLE one (id bigint);\n")
            try p.file("migrations/001_one.down.sql", "DROP TABLE one;\n")
            try p.file("migrations/002_two.sql", "CREATE TABLE two (id bigint);\n")
            try p.file("migrations/002_two.down.sql", "DROP TABLE two;\n")
            let applied = try p.opsctl(["migrate", "apply", "--format", "json"])
            #expect(applied.exitCode == 0, "round \(round): \(applied.stdout)\(applied.stderr)")
            let db = try PostgresConnection(dsn: url)
            defer { db.close() }
            #expect(try db.query("SELECT count(*)::int AS n FROM opsctl.schema_migrations WHERE status = 'applied'").first?["n"].int == 2)
            #expect(try db.query("SELECT count(*)::int AS n FROM opsctl.runs WHERE status = 'ok'").first?["n"].int == 1)
        }
    }
}
