import Foundation
import Testing
import Postgres
import TestSupport
@testable import Migrations

@Suite(.enabled(if: TestDatabase.available), .serialized) struct ApplyTests {
    static let basic: [String: String] = [
        "001_users.sql": "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n",
        "001_users.down.sql": "DROP TABLE users;\n",
        "002_orders.sql": "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users(id));\nCREATE INDEX orders_user ON orders (user_id);\n",
        "002_orders.down.sql": "DROP TABLE orders;\n",
        "003_email_index.sql": "-- opsctl:no-transaction\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n",
        "003_email_index.down.sql": "DROP INDEX CONCURRENTLY users_email;\n",
    ]

    @Test func applyStatusRollbackRoundTrip() throws {
        let dir = try TempMigrations(Self.basic)
        let url = try TestDatabase.fresh("apply")
        let m = try Migrator(config: dir.config(), dsn: url)

        let before = try m.status()
        #expect(before.pending.map(\.version) == [1, 2, 3])
        #expect(!before.historyExists)

        let plan = try m.apply(dryRun: true)
        #expect(plan.planned.count == 3)
        #expect(plan.planned[2].transactional == false)
        #expect(plan.planText.contains("CREATE INDEX CONCURRENTLY"))
        #expect(try scalar(url, "SELECT to_regclass('users')::text") == nil)

        let partial = try m.apply(to: 2)
        #expect(partial.completed.map(\.version) == [1, 2])
        #expect(partial.currentVersion == 2)
        let rest = try m.apply()
        #expect(rest.completed.map(\.version) == [3])
        #expect(rest.completed[0].transactional == false)
        #expect(try m.apply().message.contains("nothing to do"))

        let status = try m.status()
        #expect(status.versions.allSatisfy { $0.state == .applied })
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations WHERE success") == "3")
        #expect(try m.verify().ok)

        let back = try m.rollback(steps: 2)
        #expect(back.completed.map(\.version) == [3, 2])
        #expect(back.currentVersion == 1)
        #expect(try scalar(url, "SELECT to_regclass('orders')::text") == nil)
        let all = try m.rollback(to: 0)
        #expect(all.completed.map(\.version) == [1])
        #expect(try m.status().pending.count == 3)
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations_events WHERE action = 'rollback'") == "3")
    }

    @Test func modifiedMissingAndOutOfOrderAreReported() throws {
        let dir = try TempMigrations(Self.basic)
        let url = try TestDatabase.fresh("status")
        let m = try Migrator(config: dir.config(), dsn: url)
        _ = try m.apply(to: 1)
        _ = try m.apply()
        try dir.write("001_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n")
        try FileManager.default.removeItem(atPath: dir.directory + "/003_email_index.sql")
        try dir.write("000_early.sql", "SELECT 1;\n")
        let s = try m.status()
        let states = Dictionary(uniqueKeysWithValues: s.versions.map { ($0.version, $0.state) })
        #expect(states[1] == .modified)
        #expect(states[3] == .missing)
        #expect(states[0] == .outOfOrder)
        #expect(s.blocksApply)
        #expect(s.missingDown.map(\.version) == [0])
        #expect(throws: MigrationError.self) { try m.apply() }
    }

    @Test func invalidSQLGivesFileLineColumnAndSQLStateAndRecordsNothingApplied() throws {
        let dir = try TempMigrations([
            "001_ok.sql": "CREATE TABLE a (id bigint);\n",
            "001_ok.down.sql": "DROP TABLE a;\n",
            "002_bad.sql": "CREATE TABLE b (id bigint);\n\nINSERT INTO b (id)\n  SELECT nope FROM a;\n",
            "002_bad.down.sql": "DROP TABLE b;\n",
        ])
        let url = try TestDatabase.fresh("invalid")
        let m = try Migrator(config: dir.config(), dsn: url)
        let r = try m.apply()
        #expect(r.completed.map(\.version) == [1])
        let f = try #require(r.failure)
        #expect(f.location == SourceLocation(file: "002_bad.sql", line: 4, column: 10))
        #expect(f.sqlState == "42703")
        #expect(f.description.contains("002_bad.sql:4:10"))
        #expect(try scalar(url, "SELECT to_regclass('b')::text") == nil)
        #expect(try scalar(url, "SELECT status FROM opsctl.schema_migrations WHERE version = 2") == "failed")
        #expect(try m.status().versions.first { $0.version == 2 }?.state == .failed)

        // A syntax error is caught by the parser before anything runs.
        try dir.write("003_syntax.sql", "CREATE TABLE c (\n  id bigint,\n  name txt oops\n);\n")
        try dir.write("002_bad.sql", "CREATE TABLE b (id bigint);\n")
        do {
            _ = try m.apply()
            Issue.record("expected a syntax error")
        } catch let e as MigrationError {
            #expect(e.kind == .invalidInput)
            #expect(e.location == SourceLocation(file: "003_syntax.sql", line: 3, column: 12))
        }
        #expect(try scalar(url, "SELECT status FROM opsctl.schema_migrations WHERE version = 2") == "failed")
        // Fixed: the failed one is retried.
        try dir.write("003_syntax.sql", "CREATE TABLE c (id bigint);\n")
        let fixed = try m.apply()
        #expect(fixed.completed.map(\.version) == [2, 3])
    }

    @Test func singleTransactionModeIsAllOrNothing() throws {
        let dir = try TempMigrations([
            "001_a.sql": "CREATE TABLE a (id bigint);", "002_b.sql": "CREATE TABLE b (id bigint);",
            "003_bad.sql": "INSERT INTO a SELECT missing FROM b;",
        ])
        let url = try TestDatabase.fresh("single_tx")
        let m = try Migrator(config: dir.config { $0.singleTransaction = true }, dsn: url)
        let r = try m.apply()
        #expect(r.completed.isEmpty)
        #expect(r.failure?.location?.file == "003_bad.sql")
        #expect(try scalar(url, "SELECT to_regclass('a')::text") == nil)
        try dir.write("003_bad.sql", "INSERT INTO a SELECT id FROM b;")
        #expect(try m.apply().completed.map(\.version) == [1, 2, 3])
    }

    @Test func singleFileFormatAndCustomDownPatterns() throws {
        let dir = try TempMigrations([
            "20240101120000_init.sql": "-- migrate:up\nCREATE TABLE t (id bigint);\n\n-- migrate:down\nDROP TABLE t;\n",
            "20240102120000_more.sql": "-- migrate:up\nALTER TABLE t ADD COLUMN note text;\n-- migrate:down\nALTER TABLE t DROP COLUMN note;\n",
        ])
        let url = try TestDatabase.fresh("single")
        let m = try Migrator(config: dir.config(), dsn: url)
        #expect(try m.apply().completed.count == 2)
        #expect(try m.rollback(steps: 1).completed.map(\.version) == [20240102120000])
        #expect(try scalar(url, "SELECT count(*) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'note'") == "0")

        try dir.write("20240103120000_idx.sql", "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_id ON t (id);\n-- migrate:down\nDROP INDEX CONCURRENTLY IF EXISTS t_id;\n")
        try dir.write("20240104120000_vac.sql", "-- migrate:up transaction:false\nSELECT 1;\n-- migrate:down\nSELECT 1;\n")
        let nonTx = try m.apply()
        #expect(nonTx.completed.map(\.transactional) == [true, false, false])  // 20240102 was rolled back above

        let rb = try TempMigrations([
            "001_a.sql": "CREATE TABLE a (id bigint);", "rollback/001_a.sql": "DROP TABLE a;",
        ])
        let set = try Discovery.load(directory: rb.directory, downPattern: "rollback/{version}_{name}.sql")
        #expect(set.migrations.count == 1 && set.migrations[0].downFile == "rollback/001_a.sql")
        #expect(set.problems.isEmpty)
        let flat = try TempMigrations(["001_a.sql": "SELECT 1;", "001_rollback.sql": "SELECT 2;"])
        let fset = try Discovery.load(directory: flat.directory, downPattern: "{version}_rollback.sql")
        #expect(fset.migrations.map(\.upFile) == ["001_a.sql"] && fset.migrations[0].down == "SELECT 2;")
    }

    @Test func lockHeldByAnotherSessionTimesOutRetriesAndNamesThePid() throws {
        let dir = try TempMigrations([
            "001_t.sql": "CREATE TABLE t (id bigint);", "001_t.down.sql": "DROP TABLE t;",
            "002_alter.sql": "ALTER TABLE t ADD COLUMN x text;", "002_alter.down.sql": "ALTER TABLE t DROP COLUMN x;",
        ])
        let url = try TestDatabase.fresh("locks")
        let m = try Migrator(config: dir.config { $0.lockRetries = 2 }, dsn: url)
        _ = try m.apply(to: 1)
        let blocker = try PostgresConnection(dsn: url, applicationName: "blocker-session")
        defer { blocker.close() }
        try blocker.execute("BEGIN; LOCK TABLE t IN ACCESS SHARE MODE")
        let r = try m.apply()
        let f = try #require(r.failure)
        #expect(f.kind == .lockTimeout)
        #expect(f.sqlState == "55P03")
        #expect(f.message.contains("pid \(blocker.backendPID)"))
        #expect(f.message.contains("3 attempts"))
        #expect(f.location?.file == "002_alter.sql")
        try blocker.execute("ROLLBACK")
        #expect(try m.apply().completed.map(\.version) == [2])
    }

    @Test func anApplierHoldingTheMigrationLockTooLongIsNamed() throws {
        let dir = try TempMigrations(["001_a.sql": "CREATE TABLE a (id bigint);"])
        let url = try TestDatabase.fresh("lock_held")
        let other = try PostgresConnection(dsn: url, applicationName: "other-applier")
        defer { other.close() }
        #expect(try other.tryAdvisoryLock("opsctl.migrations:opsctl.schema_migrations"))
        let m = try Migrator(config: dir.config { $0.lockWait = 0.3 }, dsn: url)
        do {
            _ = try m.apply()
            Issue.record("expected the lock to be held")
        } catch let e as MigrationError {
            #expect(e.kind == .lockHeld)
            #expect(e.message.contains("pid \(other.backendPID) (other-applier)"))
        }
        try other.advisoryUnlock("opsctl.migrations:opsctl.schema_migrations")
        #expect(try m.apply().completed.count == 1)
    }

    @Test func tenConcurrentAppliersApplyEachMigrationExactlyOnce() throws {
        let dir = try TempMigrations([
            "001_counter.sql": "CREATE TABLE counter (n int);",
            "002_bump.sql": "INSERT INTO counter VALUES (1); SELECT pg_sleep(0.2);",
            "003_bump.sql": "INSERT INTO counter VALUES (1);",
        ])
        let url = try TestDatabase.fresh("concurrent")
        let config = dir.config()
        let results = Results()
        let threads = (0..<10).map { _ in
            Thread {
                do { results.add(.success(try Migrator(config: config, dsn: url).apply())) } catch { results.add(.failure(error)) }
            }
        }
        threads.forEach { $0.start() }
        results.wait(count: 10)
        let reports = try results.all.map { try $0.get() }
        #expect(reports.allSatisfy { $0.succeeded })
        #expect(reports.map(\.completed.count).reduce(0, +) == 3)
        #expect(reports.filter { !$0.completed.isEmpty }.count == 1)
        let idle = reports.filter { $0.completed.isEmpty }
        #expect(idle.count == 9)
        #expect(idle.contains { $0.waitedFor != nil && $0.message.contains("waited for pid") })
        #expect(try scalar(url, "SELECT count(*) FROM counter") == "2")
    }
}
