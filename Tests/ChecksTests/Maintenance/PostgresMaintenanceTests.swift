import Foundation
import Postgres
import Testing
import TestSupport
@testable import Checks

/// postgres.maintenance on a real server: the statements sql.exec cannot run, driven to ok and to fail.
@Suite("postgres.maintenance", .enabled(if: TestDatabase.available), .serialized)
struct PostgresMaintenanceTests {
    func plan(_ db: CatalogDatabase, _ with: [String: JSONValue]) throws -> String {
        try PostgresMaintenance(StepParameters(with, stepID: "m")).plan(StepContext(environment: ["DATABASE_URL": db.url], dryRun: true))
    }

    func planError(_ db: CatalogDatabase, _ with: [String: JSONValue]) -> String {
        do { return "no error: " + (try plan(db, with)) } catch { return "\(error)" }
    }

    @Test func vacuumAnalyzeRemovesTheDeadTuplesAutovacuumLeft() throws {
        let db = try CatalogDatabase("maint_vacuum")
        try db.sql("""
            CREATE TABLE bloated (id bigint PRIMARY KEY, body text) WITH (autovacuum_enabled = false);
            INSERT INTO bloated SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g;
            DELETE FROM bloated WHERE id % 2 = 0;
            """)
        try db.waitUntil("(SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'bloated') >= 10000")
        let text = try plan(db, ["action": "vacuum", "table": "bloated", "analyze": true])
        #expect(text.contains(#"VACUUM (ANALYZE) "bloated""#), "\(text)")
        #expect(text.contains("outside a transaction"), "\(text)")

        let out = try db.run(PostgresMaintenance.self, ["action": "vacuum", "table": "bloated", "analyze": true])
        #expect(out.status == .ok, "\(out.message)")
        let entry = try #require(out.detail("statements")?.array?.first?.object)
        #expect((entry["dead_tuples_before"]?.int ?? 0) >= 10000, "\(entry)")
        #expect(entry["dead_tuples_after"]?.int == 0, "\(entry)")
        #expect(out.message.contains("dead tuples"), "\(out.message)")
        #expect(out.metric("dead_tuples_after") == 0)
        #expect(try db.value("SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'bloated'").bool == true)
    }

    @Test func createReindexAndDropAnIndexConcurrentlyReportTheIndexSize() throws {
        let db = try CatalogDatabase("maint_index")
        try db.sql("CREATE TABLE orders (id bigint PRIMARY KEY, customer text); INSERT INTO orders SELECT g, 'c' || (g % 500) FROM generate_series(1, 5000) g")
        let create = try db.run(PostgresMaintenance.self, ["action": "create_index", "table": "orders", "index": "orders_customer", "columns": ["customer"]])
        #expect(create.status == .ok, "\(create.message)")
        #expect(create.message.contains(#"CREATE INDEX CONCURRENTLY "orders_customer" ON "orders" ("customer")"#), "\(create.message)")
        #expect((create.metric("index_bytes_after") ?? 0) > 0)
        #expect(try db.value("SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_customer'::regclass").bool == true)

        let reindex = try db.run(PostgresMaintenance.self, ["action": "reindex", "index": "orders_customer"])
        #expect(reindex.status == .ok, "\(reindex.message)")
        let entry = try #require(reindex.detail("statements")?.array?.first?.object)
        #expect((entry["index_bytes_before"]?.int ?? 0) > 0 && (entry["index_bytes_after"]?.int ?? 0) > 0, "\(entry)")
        #expect(try db.run(PostgresMaintenance.self, ["action": "reindex", "table": "orders", "concurrently": false]).status == .ok)

        let drop = try db.run(PostgresMaintenance.self, ["action": "drop_index", "index": "orders_customer"])
        #expect(drop.status == .ok, "\(drop.message)")
        #expect(try db.value("SELECT to_regclass('orders_customer')::text").isNull)
    }

    @Test func aFailedUniqueBuildFailsAndLeavesNoInvalidIndex() throws {
        let db = try CatalogDatabase("maint_unique_fail")
        try db.sql("CREATE TABLE members (id bigint PRIMARY KEY, email text); INSERT INTO members VALUES (1, 'a@x'), (2, 'a@x')")
        let out = try db.run(PostgresMaintenance.self, ["action": "create_index", "table": "members", "index": "members_email", "columns": ["email"], "unique": true])
        #expect(out.status == .fail, "\(out.message)")
        #expect(out.detail("sqlstate")?.string == "23505", "\(out.details)")
        #expect(out.message.contains("invalid index it left was dropped"), "\(out.message)")
        #expect(try db.value("SELECT to_regclass('members_email')::text").isNull)
    }

    @Test func aLockHeldByAnotherSessionFailsWithinTheLockTimeout() throws {
        let db = try CatalogDatabase("maint_lock")
        try db.sql("CREATE TABLE busy (id bigint PRIMARY KEY)")
        let holder = try db.connect("holder")
        defer { holder.close() }
        try holder.execute("BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
        let out = try db.run(PostgresMaintenance.self, ["action": "vacuum", "table": "busy", "lock_timeout": "200ms"])
        try holder.execute("ROLLBACK")
        #expect(out.status == .fail, "\(out.message)")
        #expect(out.detail("sqlstate")?.string == "55P03", "\(out.details)")
        #expect(out.message.contains("postgres.lock_waits"), "\(out.message)")
    }

    @Test func dryRunThrowsWhereTheRealRunWouldFail() throws {
        let db = try CatalogDatabase("maint_dry")
        try db.sql("""
            CREATE TABLE parted (id bigint, at date) PARTITION BY RANGE (at);
            CREATE TABLE parted_2026 PARTITION OF parted FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
            CREATE TABLE "we""ird" (id bigint PRIMARY KEY, name text);
            CREATE INDEX taken ON "we""ird" (name);
            """)
        #expect(planError(db, ["action": "vacuum", "table": "missing"]).contains("does not exist"))
        #expect(planError(db, ["action": "create_index", "table": "parted", "index": "p_at", "columns": ["at"]]).contains("partitioned table parted concurrently"))
        #expect(planError(db, ["action": "create_index", "table": #"we"ird"#, "index": "x", "columns": ["nope"]]).contains("column nope"))
        #expect(planError(db, ["action": "create_index", "table": #"we"ird"#, "index": "taken", "columns": ["name"]]).contains("already exists"))
        #expect(planError(db, ["action": "reindex", "index": "nothing_here"]).contains("does not exist"))
        #expect(planError(db, ["action": "drop_index", "index": #"we"ird_pkey"#]).contains("backs a constraint"))
        let text = try plan(db, ["action": "analyze", "tables": [#"we"ird"#, "parted"]])
        #expect(text.contains(#"ANALYZE "we""ird""#) && text.contains(#"ANALYZE "parted""#), "\(text)")
        #expect(try plan(db, ["action": "create_index", "table": "parted", "index": "p_at", "columns": ["at"], "concurrently": false]).contains("CREATE INDEX \"p_at\""))
        #expect(throws: StepError.self) { try PostgresMaintenance(StepParameters(["action": "vaccum", "table": "t"])) }
        #expect(throws: StepError.self) { try PostgresMaintenance(StepParameters(["action": "drop_index", "table": "t"])) }
    }

    @Test func sqlExecRefusesVacuumAndPointsAtTheMaintenanceKind() throws {
        let db = try CatalogDatabase("maint_sqlexec")
        try db.sql("CREATE TABLE t (id int)")
        let step = try SQLExec(StepParameters(["sql": "VACUUM t"], stepID: "v"))
        let context = StepContext(environment: ["DATABASE_URL": db.url], dryRun: true)
        #expect(throws: StepError.self) { try step.plan(context) }
        do { _ = try step.plan(context) } catch { #expect("\(error)".contains("postgres.maintenance"), "\(error)") }
        do { _ = try step.run(StepContext(environment: ["DATABASE_URL": db.url])) } catch { #expect("\(error)".contains("postgres.maintenance"), "\(error)") }
    }
}
