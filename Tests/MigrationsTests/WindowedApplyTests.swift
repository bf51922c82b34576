import Foundation
import Testing
import Postgres
import Support
import TestSupport
@testable import Migrations

/// Several migrations in flight on the session at once (`pipeline_window`), each its own transaction
/// behind its own sync point: when one fails, every one sent behind it is stopped by its guard (or its
/// BEGIN) and is not applied, the history says exactly what happened, and the error names file:line:col —
/// the same outcome as one migration at a time.
@Suite(.enabled(if: TestDatabase.available), .serialized) struct WindowedApplyTests {
    /// Five small migrations, each creating table wN; `broken` (0-based) gets a mistake on its line 2.
    static func five(breaking broken: Int?) -> [String: String] {
        var files: [String: String] = [:]
        for i in 1...5 {
            let sql = i - 1 == broken
                ? "CREATE TABLE w\(i) (id bigint);\nINSERT INTO w\(i) (id, nmae) VALUES (1, 'x');\n"
                : "CREATE TABLE w\(i) (id bigint);\nINSERT INTO w\(i) (id) VALUES (\(i));\n"
            files["00\(i)_w\(i).sql"] = sql
            files["00\(i)_w\(i).down.sql"] = "DROP TABLE w\(i);\n"
        }
        return files
    }

    /// `version status execution_order` of every history row (`-` for the order of a row not applied).
    func history(_ url: String) throws -> String? {
        try scalar(url, """
            SELECT string_agg(version || ' ' || status || ' ' || CASE WHEN status = 'applied' THEN execution_order::text ELSE '-' END,
                              ', ' ORDER BY version) FROM opsctl.schema_migrations
            """)
    }

    @Test(arguments: [0, 2, 4])
    func aFailureInTheWindowStopsEveryMigrationBehindIt(broken: Int) throws {
        let dir = try TempMigrations(Self.five(breaking: broken))
        let url = try TestDatabase.fresh("window_fail_\(broken)")
        let m = try Migrator(config: dir.config { $0.pipelineWindow = 8 }, dsn: url)
        let r = try m.apply()
        let before = Array(1...5).prefix(broken).map(Int64.init)
        #expect(r.completed.map(\.version) == before)
        let f = try #require(r.failure)
        #expect(f.kind == .statementFailed)
        #expect(f.sqlState == "42703")
        let file = "00\(broken + 1)_w\(broken + 1).sql"
        #expect(f.location == SourceLocation(file: file, line: 2, column: 21), "\(f)")
        #expect(f.description.hasPrefix("\(file):2:21: "), "\(f)")
        // Applied: exactly the ones before it, in order; the broken one failed; nothing after it ran.
        let expected = before.map { "\($0) applied \($0)" } + ["\(broken + 1) failed -"]
        #expect(try history(url) == expected.joined(separator: ", "))
        for i in 1...5 {
            #expect(try scalar(url, "SELECT to_regclass('w\(i)')::text") == (i <= broken ? "w\(i)" : nil))
        }
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations_events WHERE action = 'apply'") == "\(broken)")
        #expect(try scalar(url, "SELECT string_agg(version::text, ',') FROM opsctl.schema_migrations_events WHERE action = 'apply-failed'") == "\(broken + 1)")
        // Fixed, the rest applies and continues the execution order.
        try dir.write(file, "CREATE TABLE w\(broken + 1) (id bigint);\n")
        let again = try m.apply()
        #expect(again.failure == nil, "\(String(describing: again.failure))")
        #expect(again.completed.map(\.version) == Array((broken + 1)...5).map(Int64.init))
        #expect(try scalar(url, "SELECT string_agg(version || ' ' || status, ', ' ORDER BY execution_order) FROM opsctl.schema_migrations")
                == (1...5).map { "\($0) applied" }.joined(separator: ", "))
    }

    @Test func aFailureAtCommitStopsTheNextOneAtItsGuard() throws {
        // The deferred foreign key fails the COMMIT itself: that ends the transaction, so what stops the
        // migration sent behind it is its guard (the failed one's history row is not committed).
        let dir = try TempMigrations([
            "001_a.sql": "CREATE TABLE a (id bigint);\n", "001_a.down.sql": "DROP TABLE a;\n",
            "002_deferred.sql": """
                CREATE TABLE parent (id bigint PRIMARY KEY);
                CREATE TABLE child (parent_id bigint REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
                INSERT INTO child VALUES (1);

                """,
            "002_deferred.down.sql": "DROP TABLE child; DROP TABLE parent;\n",
            "003_c.sql": "CREATE TABLE c (id bigint);\n", "003_c.down.sql": "DROP TABLE c;\n",
            "004_d.sql": "CREATE TABLE d (id bigint);\n", "004_d.down.sql": "DROP TABLE d;\n",
        ])
        let url = try TestDatabase.fresh("window_commit")
        let r = try Migrator(config: dir.config { $0.pipelineWindow = 8 }, dsn: url).apply()
        #expect(r.completed.map(\.version) == [1])
        let f = try #require(r.failure)
        #expect(f.sqlState == "23503")
        #expect(f.message.hasPrefix("committing 002_deferred"), "\(f)")
        #expect(try history(url) == "1 applied 1, 2 failed -")
        #expect(try scalar(url, "SELECT to_regclass('parent')::text") == nil)
        #expect(try scalar(url, "SELECT to_regclass('c')::text") == nil)
        #expect(try scalar(url, "SELECT to_regclass('d')::text") == nil)
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations_events WHERE version > 2") == "0")
    }

    @Test func aLockTimeoutInTheWindowRetriesThatMigrationThenTheRest() throws {
        let dir = try TempMigrations([
            "001_t.sql": "CREATE TABLE t (id bigint);\n", "001_t.down.sql": "DROP TABLE t;\n",
            "002_a.sql": "CREATE TABLE a (id bigint);\n", "002_a.down.sql": "DROP TABLE a;\n",
            "003_alter.sql": "ALTER TABLE t ADD COLUMN x text;\n", "003_alter.down.sql": "ALTER TABLE t DROP COLUMN x;\n",
            "004_b.sql": "CREATE TABLE b (id bigint);\n", "004_b.down.sql": "DROP TABLE b;\n",
            "005_c.sql": "CREATE TABLE c (id bigint);\n", "005_c.down.sql": "DROP TABLE c;\n",
        ])
        let url = try TestDatabase.fresh("window_lock")
        let app = "opsctl-test-window-lock"
        let m = try Migrator(config: dir.config { $0.pipelineWindow = 8; $0.lockRetries = 4; $0.applicationName = app }, dsn: url)
        _ = try m.apply(to: 1)
        let blocker = try PostgresConnection(dsn: url, applicationName: "blocker-session")
        defer { blocker.close() }
        try blocker.execute("BEGIN; LOCK TABLE t IN ACCESS SHARE MODE")
        let results = inBackground { try m.apply() }
        // Let the first attempt of 003 time out (lock_timeout 300 ms), then let the blocker go.
        let probe = try PostgresConnection(dsn: url, applicationName: "opsctl-test-probe")
        defer { probe.close() }
        #expect(eventually(timeout: 30) {
            (try? probe.query("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [app])
                .first?["n"].int) == 1
        })
        Thread.sleep(forTimeInterval: 0.6)
        try blocker.execute("ROLLBACK")
        results.wait(count: 1)
        let r = try results.all[0].get()
        #expect(r.failure == nil, "\(String(describing: r.failure))")
        #expect(r.completed.map(\.version) == [2, 3, 4, 5])
        #expect((r.completed.first { $0.version == 3 }?.attempts ?? 0) >= 2)
        #expect(try history(url) == (1...5).map { "\($0) applied \($0)" }.joined(separator: ", "))
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations_events WHERE action = 'apply'") == "5")
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations_events WHERE action <> 'apply'") == "0")
    }

    @Test func aLockTimeoutOnEveryAttemptStopsTheWindowThere() throws {
        let dir = try TempMigrations([
            "001_t.sql": "CREATE TABLE t (id bigint);\n", "001_t.down.sql": "DROP TABLE t;\n",
            "002_a.sql": "CREATE TABLE a (id bigint);\n", "002_a.down.sql": "DROP TABLE a;\n",
            "003_alter.sql": "SELECT 1;\nALTER TABLE t ADD COLUMN x text;\n", "003_alter.down.sql": "ALTER TABLE t DROP COLUMN x;\n",
            "004_b.sql": "CREATE TABLE b (id bigint);\n", "004_b.down.sql": "DROP TABLE b;\n",
        ])
        let url = try TestDatabase.fresh("window_lock_stop")
        let m = try Migrator(config: dir.config { $0.pipelineWindow = 8; $0.lockRetries = 1 }, dsn: url)
        _ = try m.apply(to: 1)
        let blocker = try PostgresConnection(dsn: url, applicationName: "blocker-session")
        defer { blocker.close() }
        try blocker.execute("BEGIN; LOCK TABLE t IN ACCESS SHARE MODE")
        let r = try m.apply()
        try blocker.execute("ROLLBACK")
        #expect(r.completed.map(\.version) == [2])
        let f = try #require(r.failure)
        #expect(f.kind == .lockTimeout)
        #expect(f.location == SourceLocation(file: "003_alter.sql", line: 2, column: 1), "\(f)")
        #expect(f.message.contains("on every one of 2 attempts"), "\(f)")
        #expect(f.message.contains("pid \(blocker.backendPID)"), "\(f)")
        #expect(try history(url) == "1 applied 1, 2 applied 2, 3 failed -")
        #expect(try scalar(url, "SELECT to_regclass('b')::text") == nil)
    }

    @Test func anInterruptWithAFullWindowCancelsTheOneRunningAndSendsNoMore() throws {
        var files = [
            "001_a.sql": "CREATE TABLE a (id bigint);\n", "001_a.down.sql": "DROP TABLE a;\n",
            "002_slow.sql": "CREATE TABLE slow (id bigint);\nSELECT pg_sleep(60);\n", "002_slow.down.sql": "DROP TABLE slow;\n",
        ]
        for i in 3...12 {
            files[String(format: "%03d_t%d.sql", i, i)] = "CREATE TABLE t\(i) (id bigint);\n"
            files[String(format: "%03d_t%d.down.sql", i, i)] = "DROP TABLE t\(i);\n"
        }
        let dir = try TempMigrations(files)
        let url = try TestDatabase.fresh("window_interrupt")
        let app = "opsctl-test-window-int"
        let cancellation = Cancellation()
        let m = try Migrator(config: dir.config { $0.pipelineWindow = 4; $0.applicationName = app }, dsn: url, cancellation: cancellation)
        let results = inBackground { try m.apply() }
        let admin = try PostgresConnection(dsn: url, applicationName: "opsctl-test-probe")
        defer { admin.close() }
        let sleeping = { isSleeping(admin, application: app) }
        #expect(eventually(timeout: 30) { sleeping() })
        cancellation.cancel(reason: "interrupted by SIGTERM")
        results.wait(count: 1)
        let r = try results.all[0].get()
        #expect(r.completed.map(\.version) == [1])
        #expect(r.failure?.kind == .interrupted)
        #expect(r.failure?.exitCode == 2)
        #expect(r.failure?.description.contains("002_slow.sql:2:1: interrupted by SIGTERM") == true, "\(r.failure?.description ?? "")")
        #expect(!sleeping())
        #expect(try history(url) == "1 applied 1")
        #expect(try scalar(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "1")
        #expect(try scalar(url, "SELECT string_agg(version || ' ' || action, ', ' ORDER BY id) FROM opsctl.schema_migrations_events") == "1 apply, 2 apply-interrupted")
        // Nothing of the interrupted run lingers: the next apply runs all the rest.
        try dir.write("002_slow.sql", "CREATE TABLE slow (id bigint);\n")
        let again = try Migrator(config: dir.config { $0.pipelineWindow = 4 }, dsn: url).apply()
        #expect(again.failure == nil, "\(String(describing: again.failure))")
        #expect(again.completed.map(\.version) == Array(2...12).map(Int64.init))
    }

    @Test func migrationsQueuedOnTheServerDoNotRunOnceTheLockIsGone() throws {
        // What the server sees when opsctl is killed with migrations queued: the lock's session ends
        // (here: terminated) while the session running the migrations still has work in its input.
        var files = ["001_slow.sql": "CREATE TABLE slow (id bigint);\nSELECT pg_sleep(1);\n", "001_slow.down.sql": "DROP TABLE slow;\n"]
        for i in 2...5 {
            files["00\(i)_t\(i).sql"] = "CREATE TABLE t\(i) (id bigint);\n"
            files["00\(i)_t\(i).down.sql"] = "DROP TABLE t\(i);\n"
        }
        let dir = try TempMigrations(files)
        let url = try TestDatabase.fresh("window_lock_gone")
        let app = "opsctl-test-window-gone"
        let m = try Migrator(config: dir.config { $0.pipelineWindow = 8; $0.applicationName = app }, dsn: url)
        let results = inBackground { try m.apply() }
        let admin = try PostgresConnection(dsn: url, applicationName: "opsctl-test-probe")
        defer { admin.close() }
        #expect(eventually(timeout: 30) { isSleeping(admin, application: app) })
        #expect(try admin.query("SELECT pg_terminate_backend(pid) AS k FROM pg_stat_activity WHERE application_name = $1", [app + "/lock"])
            .first?["k"].bool == true)
        results.wait(count: 1)
        let r = try results.all[0].get()
        #expect(r.completed.map(\.version) == [1], "the one running when the lock went finishes")
        let f = try #require(r.failure)
        #expect(f.version == 2)
        #expect(f.message.contains("the migration lock is no longer held"), "\(f)")
        #expect(try history(url) == "1 applied 1")
        #expect(try scalar(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "1")
    }

    @Test func migrationsThatCannotShareTheWindowRunAloneInOrder() throws {
        // A migration without a transaction and one that drops the session's prepared statements each
        // wait for the window to empty; the ones around them still go in windows.
        let dir = try TempMigrations([
            "001_a.sql": "CREATE TABLE a (v text);\n", "001_a.down.sql": "DROP TABLE a;\n",
            "002_idx.sql": "CREATE INDEX CONCURRENTLY a_v ON a (v);\n", "002_idx.down.sql": "DROP INDEX CONCURRENTLY a_v;\n",
            "003_b.sql": "CREATE TABLE b (id bigint);\n", "003_b.down.sql": "DROP TABLE b;\n",
            "004_dealloc.sql": "DEALLOCATE ALL;\nCREATE TABLE c (id bigint);\n", "004_dealloc.down.sql": "DROP TABLE c;\n",
            "005_d.sql": "CREATE TABLE d (id bigint);\n", "005_d.down.sql": "DROP TABLE d;\n",
            "006_e.sql": "CREATE TABLE e (id bigint);\n", "006_e.down.sql": "DROP TABLE e;\n",
        ])
        let url = try TestDatabase.fresh("window_alone")
        let r = try Migrator(config: dir.config { $0.pipelineWindow = 8 }, dsn: url).apply()
        #expect(r.failure == nil, "\(String(describing: r.failure))")
        #expect(r.completed.map(\.version) == [1, 2, 3, 4, 5, 6])
        #expect(r.completed.map(\.transactional) == [true, false, true, true, true, true])
        #expect(try history(url) == (1...6).map { "\($0) applied \($0)" }.joined(separator: ", "))
    }

    @Test func theRunsSharedSessionIsResetAfterApplyAndTheLockIsNotOnIt() throws {
        // A migration that unlocks every advisory lock of its session cannot release the migration
        // lock (it lives on its own session); what migrations change in the session is undone before
        // the next step borrows it.
        let dir = try TempMigrations([
            "001_a.sql": "CREATE TABLE a (id bigint);\nSELECT pg_advisory_unlock_all();\nSET search_path = nowhere, public;\nPREPARE mine AS SELECT 1;\n",
            "001_a.down.sql": "DROP TABLE a;\n",
            "002_wait.sql": "CREATE TABLE b (id bigint);\nSELECT pg_sleep(0.5);\n", "002_wait.down.sql": "DROP TABLE b;\n",
        ])
        let url = try TestDatabase.fresh("window_pool")
        let pool = PostgresSessionPool()
        defer { pool.closeAll() }
        let m = try Migrator(config: dir.config { $0.applicationName = "opsctl-test-pool" }, dsn: url, sessions: pool)
        _ = try m.status()
        let first = try #require(pool.take(url))
        let pid = first.backendPID
        pool.giveBack(first, dsn: url)

        let results = inBackground { try m.apply() }
        let other = try PostgresConnection(dsn: url, applicationName: "opsctl-test-other")
        defer { other.close() }
        #expect(eventually(timeout: 30) {
            (try? other.query("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%' AND state = 'active'", [pid])
                .first?["n"].int) == 1
        }, "the apply runs on the session status used")
        #expect(try !other.tryAdvisoryLock("opsctl.migrations:opsctl.schema_migrations"), "the migration lock is still held")
        results.wait(count: 1)
        let r = try results.all[0].get()
        #expect(r.failure == nil, "\(String(describing: r.failure))")
        #expect(r.completed.map(\.version) == [1, 2])

        let after = try #require(pool.take(url))
        #expect(after.backendPID == pid)
        #expect(try after.query("SHOW search_path").first?[0].string == "\"$user\", public")
        #expect(try after.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE name = 'mine'").first?["n"].int == 0)
        pool.giveBack(after, dsn: url)
        let report = try m.verify()
        #expect(report.ok)
        let last = try #require(pool.take(url))
        #expect(last.backendPID == pid)
        last.close()
    }
}
