import Foundation
import Testing
import Postgres
import TestSupport
@testable import Migrations

/// The applier's session dies mid-migration (pg_terminate_backend: what the server sees when the
/// process is killed). The kill -9 of the CLI process itself is tested with the CLI.
@Suite(.enabled(if: TestDatabase.available), .serialized) struct InterruptionTests {
    /// Starts `apply` on a thread, waits until its session runs pg_sleep, terminates that session.
    func applyAndTerminate(_ m: Migrator, url: String, appName: String) throws -> MigrationRunReport {
        let results = Results()
        let thread = Thread { do { results.add(.success(try m.apply())) } catch { results.add(.failure(error)) } }
        thread.start()
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
}
