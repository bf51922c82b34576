import Foundation
import Postgres
import Support
import Testing
import TestSupport

/// Issue 12 item 1: SIGINT/SIGTERM stop `migrate apply` and `migrate rollback` after the statement in
/// flight (cancelled on the server), nothing further runs, the history says what happened, exit 2.
/// The real binary, the sandbox database, real signals.
@Suite("signals stop migrations", .enabled(if: TestDatabase.available), .serialized)
struct InterruptTests {
    /// A statement that would run for a minute: a process that exits well before that cancelled it.
    static let slow = "SELECT pg_sleep(60)"

    func scalar(_ url: String, _ sql: String) throws -> String? { try Probe.scalar(url, sql) }

    func running(_ url: String, _ marker: String) -> Bool { Probe.running(url, marker) }

    /// opsctl started in the background, its output going to files in the project.
    struct Running {
        let process: Process
        let out: String
        let err: String
        var output: String {
            ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "") + ((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
        }

        /// Waits for the exit (up to `timeout` s; then kills it): the exit status, nil when it had to be killed.
        func exit(within timeout: Double) -> Int32? {
            let exited = eventually(timeout: timeout) { !process.isRunning }
            if !exited {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    func start(_ p: Project, _ args: [String]) throws -> Running {
        let out = p.dir.path + "/out-\(UUID().uuidString.prefix(6))", err = out + ".err"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Opsctl.binary)
        process.arguments = args
        process.currentDirectoryURL = URL(fileURLWithPath: p.dir.path)
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (k, v) in p.env { env[k] = v }
        process.environment = env
        process.standardOutput = FileHandle(forWritingAtPath: out)
        process.standardError = FileHandle(forWritingAtPath: err)
        try process.run()
        return Running(process: process, out: out, err: err)
    }

    /// Three pending migrations; the second sleeps for a minute (in a transaction unless `noTransaction`).
    func project(_ label: String, noTransaction: Bool = false) throws -> (Project, String) {
        let url = try TestDatabase.fresh(label)
        let p = Project(databaseURL: url)
        try p.file("migrations/001_one.sql", "CREATE TABLE one (id bigint);\n")
        try p.file("migrations/001_one.down.sql", "DROP TABLE one;\n")
        try p.file("migrations/002_two.sql", (noTransaction ? "-- opsctl:no-transaction\n" : "")
                   + "CREATE TABLE two (id bigint);\n\(Self.slow);\nCREATE TABLE two_b (id bigint);\n")
        try p.file("migrations/002_two.down.sql", "DROP TABLE two_b;\nDROP TABLE two;\n")
        try p.file("migrations/003_three.sql", "CREATE TABLE three (id bigint);\n")
        try p.file("migrations/003_three.down.sql", "DROP TABLE three;\n")
        return (p, url)
    }

    func interruptApply(_ signal: Int32, label: String) throws {
        let (p, url) = try project(label)
        let run = try start(p, ["migrate", "apply"])
        #expect(eventually(timeout: 60) { running(url, "pg_sleep(60)") }, "migration 002 never reached its slow statement: \(run.output)")
        kill(run.process.processIdentifier, signal)
        let code = run.exit(within: 30)
        #expect(code == 2, "exit-code contract: 2 for an interrupted run: \(run.output)")
        #expect(!running(url, "pg_sleep(60)"), "the statement in flight was cancelled on the server")
        #expect(try scalar(url, "SELECT to_regclass('one')::text") == "one", "migration 1 stays applied")
        #expect(try scalar(url, "SELECT to_regclass('two')::text") == nil, "migration 2 was rolled back")
        #expect(try scalar(url, "SELECT to_regclass('three')::text") == nil, "migration 3 never ran")
        #expect(try scalar(url, "SELECT string_agg(version || ' ' || status, ', ' ORDER BY version) FROM opsctl.schema_migrations") == "1 applied")
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations_events WHERE version = 2 AND action = 'apply-interrupted'") == "1")
        #expect(run.output.contains("interrupted by \(signal == SIGINT ? "SIGINT" : "SIGTERM")"), "\(run.output)")

        // Nothing is left half-done: the same command finishes the job.
        try p.file("migrations/002_two.sql", "CREATE TABLE two (id bigint);\nCREATE TABLE two_b (id bigint);\n")
        let again = try p.opsctl(["migrate", "apply"])
        #expect(again.exitCode == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("applied 2 migration(s): database at version 3"), "\(again.stdout)")
    }

    @Test func sigintDuringApplyStopsAfterTheStatementInFlight() throws {
        try interruptApply(SIGINT, label: "int_apply_sigint")
    }

    @Test func sigtermDuringApplyStopsAfterTheStatementInFlight() throws {
        try interruptApply(SIGTERM, label: "int_apply_sigterm")
    }

    @Test func interruptedMigrationWithoutATransactionIsRecordedAsFailedWithItsProgress() throws {
        let (p, url) = try project("int_apply_notx", noTransaction: true)
        let run = try start(p, ["migrate", "apply"])
        #expect(eventually(timeout: 60) { running(url, "pg_sleep(60)") }, "\(run.output)")
        kill(run.process.processIdentifier, SIGTERM)
        #expect(run.exit(within: 30) == 2, "\(run.output)")
        #expect(try scalar(url, "SELECT to_regclass('two')::text") == "two", "statement 1 of 002 ran without a transaction and stays")
        #expect(try scalar(url, "SELECT to_regclass('two_b')::text") == nil)
        #expect(try scalar(url, "SELECT to_regclass('three')::text") == nil)
        #expect(try scalar(url, "SELECT status || ' ' || statements_done || '/' || statements_total FROM opsctl.schema_migrations WHERE version = 2")
                == "failed 1/3")
        let status = try p.opsctl(["migrate", "status"])
        #expect(status.exitCode == 1, "a half-applied migration blocks apply: \(status.stdout)")
        #expect(status.stdout.contains("failed"), "\(status.stdout)")
        #expect(status.stdout.contains("interrupted by SIGTERM"), "status says why: \(status.stdout)")
    }

    func interruptRollback(_ signal: Int32, label: String) throws {
        let (p, url) = try project(label)
        try p.file("migrations/002_two.sql", "CREATE TABLE two (id bigint);\nCREATE TABLE two_b (id bigint);\n")
        let applied = try p.opsctl(["migrate", "apply"])
        #expect(applied.exitCode == 0, "\(applied.stdout)\(applied.stderr)")
        try p.file("migrations/002_two.down.sql", "DROP TABLE two_b;\n\(Self.slow);\nDROP TABLE two;\n")
        let run = try start(p, ["migrate", "rollback", "--to", "0"])
        #expect(eventually(timeout: 60) { running(url, "pg_sleep(60)") }, "\(run.output)")
        kill(run.process.processIdentifier, signal)
        #expect(run.exit(within: 30) == 2, "\(run.output)")
        #expect(!running(url, "pg_sleep(60)"))
        #expect(try scalar(url, "SELECT to_regclass('three')::text") == nil, "003 was rolled back before the signal")
        #expect(try scalar(url, "SELECT to_regclass('two_b')::text") == "two_b", "002's down was rolled back as a whole")
        #expect(try scalar(url, "SELECT to_regclass('one')::text") == "one", "001's down never ran")
        #expect(try scalar(url, "SELECT string_agg(version || ' ' || status, ', ' ORDER BY version) FROM opsctl.schema_migrations")
                == "1 applied, 2 applied")
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations_events WHERE version = 2 AND action = 'rollback-interrupted'") == "1")
    }

    @Test func sigintDuringRollbackStopsAfterTheStatementInFlight() throws {
        try interruptRollback(SIGINT, label: "int_rollback_sigint")
    }

    @Test func sigtermDuringRollbackStopsAfterTheStatementInFlight() throws {
        try interruptRollback(SIGTERM, label: "int_rollback_sigterm")
    }

    /// Lint of a huge file stops between statements (it used to run on for 43 s after SIGTERM).
    @Test func sigtermStopsTheLintOfAHugeFile() throws {
        let p = Project()
        let sql = (1...50_000).map { "ALTER TABLE t\($0) ADD COLUMN c int;" }.joined(separator: "\n")
        try p.file("migrations/001_huge.sql", sql)
        let run = try start(p, ["migrate", "lint", "migrations/001_huge.sql", "--format", "jsonl", "--no-journal"])
        #expect(eventually(timeout: 30) { run.output.contains("\"step_started\"") }, "\(run.output)")
        kill(run.process.processIdentifier, SIGTERM)
        #expect(run.exit(within: 30) == 2, "\(run.output)")
        #expect(run.output.contains("interrupted by SIGTERM"), "\(run.output)")
    }

    /// The first Ctrl-C lets cleanup (`always`) steps run; the second exits at once.
    @Test func secondSigintExitsAtOnce() throws {
        let p = Project()
        let started = p.dir.path + "/work-started", marker = p.dir.path + "/cleanup-started"
        try p.file("runbooks/slow-cleanup.yaml", """
            name: slow-cleanup
            steps:
              - id: work
                kind: shell
                with: { command: "touch '\(started)'; sleep 60", readonly: true }
              - id: cleanup
                kind: shell
                always: true
                with: { command: "touch '\(marker)'; sleep 60", readonly: true }
            """)
        let run = try start(p, ["run", "runbooks/slow-cleanup.yaml", "--no-journal"])
        #expect(eventually(timeout: 30) { FileManager.default.fileExists(atPath: started) }, "\(run.output)")
        kill(run.process.processIdentifier, SIGINT)
        #expect(eventually(timeout: 30) { FileManager.default.fileExists(atPath: marker) }, "the cleanup step starts after one SIGINT: \(run.output)")
        #expect(run.process.isRunning, "one SIGINT lets the cleanup step run")
        kill(run.process.processIdentifier, SIGINT)
        #expect(run.exit(within: 30) == 130, "\(run.output)")
        let left = try ProcessRunner.run(["pgrep", "-f", marker])
        #expect(left.exitCode == 1, "the cleanup command does not run on behind opsctl: \(left.stdout)")
    }
}
