import Foundation
import Testing
import Postgres
import Support
import TestSupport
@testable import Migrations

/// The applier's session dies mid-migration (pg_terminate_backend: what the server sees when the
/// process is killed). The kill -9 of the CLI process itself is tested with the CLI.
@Suite(.enabled(if: TestDatabase.available), .serialized) struct InterruptionTests {
    /// Starts `apply` on a thread, waits until its session runs pg_sleep, terminates that session.
    func applyAndTerminate(_ m: Migrator, url: String, appName: String) throws -> MigrationRunReport {
        let results = inBackground { try m.apply() }
        let admin = try PostgresConnection(dsn: url, applicationName: "opsctl-test-killer")
        defer { admin.close() }
        var killed = false
        for _ in 0..<100 where !killed {
            Thread.sleep(forTimeInterval: 0.05)
            killed = try admin.query("""
                SELECT pg_terminate_backend(pid) AS k FROM pg_stat_activity
                 WHERE application_name = $1 AND query LIKE '%pg_sleep%' AND state = 'active'
                """, [appName]).first?["k"].bool ?? false
        }
        #expect(killed)
        results.wait(count: 1)
        return try results.all[0].get()
    }

    @Test func killedDuringATransactionalMigrationLeavesNothingAndTheNextApplySucceeds() throws {
        let dir = try TempMigrations([
            "001_slow.sql": "CREATE TABLE slow (id bigint);\nSELECT pg_sleep(5);\n", "001_slow.down.sql": "DROP TABLE slow;",
        ])
        let url = try TestDatabase.fresh("kill_tx")
        let app = "opsctl-test-kill-tx"
        let m = try Migrator(config: dir.config { $0.applicationName = app }, dsn: url)
        let r = try applyAndTerminate(m, url: url, appName: app)
        #expect(r.failure?.kind == .connection)
        #expect(try scalar(url, "SELECT to_regclass('slow')::text") == nil)
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations") == "0")
        try dir.write("001_slow.sql", "CREATE TABLE slow (id bigint);\n")
        #expect(try m.apply().completed.map(\.version) == [1])
    }

    @Test func killedDuringANonTransactionalMigrationIsRecordedAsPartial() throws {
        let dir = try TempMigrations([
            "001_t.sql": "CREATE TABLE t (a text);", "001_t.down.sql": "DROP TABLE t;",
            "002_idx.sql": "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\nSELECT pg_sleep(5);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_a2 ON t (a);\n",
            "002_idx.down.sql": "DROP INDEX CONCURRENTLY IF EXISTS t_a2;\nDROP INDEX CONCURRENTLY IF EXISTS t_a;\n",
        ])
        let url = try TestDatabase.fresh("kill_notx")
        let app = "opsctl-test-kill-notx"
        let m = try Migrator(config: dir.config { $0.applicationName = app }, dsn: url)
        let r = try applyAndTerminate(m, url: url, appName: app)
        #expect(r.completed.map(\.version) == [1])
        #expect(r.failure?.kind == .connection)
        let s = try #require(try m.status().versions.first { $0.version == 2 })
        #expect(s.state == .partial)
        #expect(s.message.contains("1 of 3 statements"))
        #expect(throws: MigrationError.self) { try m.apply() }
        let ev = try m.evidence(version: 2)
        #expect(ev.objects.map { "\($0.object) \($0.exists)" } == ["index t_a true", "index t_a2 false"])
        #expect(ev.suggestion.contains("some objects exist"))
    }

    // MARK: - cancellation (SIGINT/SIGTERM reach the engine through its Cancellation)

    /// A second applier (or `migrate status`) that looks while a non-transactional migration runs sees it
    /// in progress, not as a crash's partial row: nothing blocks, and the second apply waits for the lock
    /// and then finds nothing to do (ten concurrent appliers used to fail now and then on this).
    @Test func aNonTransactionalMigrationInProgressElsewhereIsApplyingNotPartial() throws {
        let dir = try TempMigrations([
            "001_t.sql": "CREATE TABLE t (a int);", "001_t.down.sql": "DROP TABLE t;",
            "002_idx.sql": "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\nSELECT pg_sleep(2);\n",
            "002_idx.down.sql": "DROP INDEX CONCURRENTLY IF EXISTS t_a;\n",
        ])
        let url = try TestDatabase.fresh("applying_elsewhere")
        let first = try Migrator(config: dir.config { $0.applicationName = "opsctl-test-applying" }, dsn: url)
        let results = inBackground { try first.apply() }
        let admin = try PostgresConnection(dsn: url, applicationName: "opsctl-test-probe")
        defer { admin.close() }
        #expect(eventually(timeout: 30) { isSleeping(admin, application: "opsctl-test-applying") })
        let second = try Migrator(config: dir.config(), dsn: url)
        let s = try #require(try second.status().versions.first { $0.version == 2 })
        #expect(s.state == .applying, "\(s.message)")
        #expect(!s.blocksApply)
        #expect(s.message.contains("being applied now by session pid"), "\(s.message)")
        let report = try second.apply()
        #expect(report.completed.isEmpty)
        #expect(report.waitedFor != nil)
        results.wait(count: 1)
        #expect(try results.all[0].get().completed.map(\.version) == [1, 2])
        // With nobody holding the lock, a partial row is what it always was: a stop that blocks apply.
        _ = try admin.query("UPDATE opsctl.schema_migrations SET status = 'partial' WHERE version = 2")
        #expect(try second.status().versions.first { $0.version == 2 }?.state == .partial)
    }

    @Test func cancellingDuringAStatementCancelsItOnTheServerAndRunsNothingAfter() throws {
        let dir = try TempMigrations([
            "001_a.sql": "CREATE TABLE a (id bigint);", "001_a.down.sql": "DROP TABLE a;",
            "002_slow.sql": "CREATE TABLE slow (id bigint);\nSELECT pg_sleep(60);\n", "002_slow.down.sql": "DROP TABLE slow;",
            "003_c.sql": "CREATE TABLE c (id bigint);", "003_c.down.sql": "DROP TABLE c;",
        ])
        let url = try TestDatabase.fresh("cancel_tx")
        let cancellation = Cancellation()
        let m = try Migrator(config: dir.config { $0.applicationName = "opsctl-test-cancel-tx" }, dsn: url, cancellation: cancellation)
        let results = inBackground { try m.apply() }
        let admin = try PostgresConnection(dsn: url, applicationName: "opsctl-test-probe")
        defer { admin.close() }
        let sleeping = { isSleeping(admin, application: "opsctl-test-cancel-tx") }
        #expect(eventually(timeout: 30) { sleeping() })
        cancellation.cancel(reason: "interrupted by SIGTERM")
        results.wait(count: 1)
        let r = try results.all[0].get()
        #expect(r.completed.map(\.version) == [1])
        #expect(r.failure?.kind == .interrupted)
        #expect(r.failure?.exitCode == 2)
        #expect(r.failure?.description.contains("002_slow.sql:2:1: interrupted by SIGTERM") == true, "\(r.failure?.description ?? "")")
        #expect(!sleeping())
        #expect(try scalar(url, "SELECT to_regclass('slow')::text") == nil)
        #expect(try scalar(url, "SELECT to_regclass('c')::text") == nil)
        #expect(try scalar(url, "SELECT string_agg(version || ' ' || status, ', ') FROM opsctl.schema_migrations") == "1 applied")
        #expect(try scalar(url, "SELECT action FROM opsctl.schema_migrations_events WHERE version = 2") == "apply-interrupted")
    }

    @Test func cancellingWhileWaitingForTheMigrationLockEndsTheWait() throws {
        let dir = try TempMigrations(["001_a.sql": "CREATE TABLE a (id bigint);", "001_a.down.sql": "DROP TABLE a;"])
        let url = try TestDatabase.fresh("cancel_lock")
        let holder = try PostgresConnection(dsn: url, applicationName: "opsctl-test-holder")
        defer { holder.close() }
        #expect(try holder.tryAdvisoryLock("opsctl.migrations:opsctl.schema_migrations"))
        let cancellation = Cancellation()
        let m = try Migrator(config: dir.config { $0.lockWait = 300 }, dsn: url, cancellation: cancellation)
        let results = inBackground { try m.apply() }
        Thread.sleep(forTimeInterval: 0.5)
        cancellation.cancel(reason: "interrupted by SIGINT")
        results.wait(count: 1)
        #expect(throws: MigrationError.self) { try results.all[0].get() }
        if case let .failure(e as MigrationError) = results.all[0] {
            #expect(e.kind == .interrupted, "\(e)")
            #expect(e.description.contains("while waiting for the migration lock"), "\(e)")
        }
        #expect(try scalar(url, "SELECT to_regclass('a')::text") == nil)
    }
}
