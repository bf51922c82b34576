import Foundation
import Postgres
import Testing
import TestSupport
@testable import Checks

/// Bloat, dead tuples and stale vacuum/analyze made for real: rows deleted with autovacuum off on the table.
@Suite("Catalog: bloat, dead tuples, vacuum and analyze age", .enabled(if: TestDatabase.available), .serialized)
struct MaintenanceTests {
    @Test func deletingMostRowsWithoutVacuumBloatsTheTableAndItsIndex() throws {
        let db = try CatalogDatabase("bloat")
        try db.sql("""
            CREATE TABLE events (id int PRIMARY KEY, payload text) WITH (autovacuum_enabled = off);
            INSERT INTO events SELECT g, repeat('x', 100) FROM generate_series(1, 50000) g;
            ANALYZE events
            """)
        let small = ["min_size": JSONValue.int(0)]
        let table = try db.run(PostgresTableBloat.self, small)
        #expect(table.status == .ok, "\(table.message)")
        #expect((table.metric("table_bloat") ?? 100) < 20, "a freshly loaded table is dense: \(table.message)")
        let index = try db.run(PostgresIndexBloat.self, small)
        #expect(index.status == .ok, "\(index.message)")
        #expect((index.metric("index_bloat") ?? 100) < 20, "\(index.message)")
        #expect(try db.run(PostgresDeadTuples.self).status == .ok)

        try db.sql("DELETE FROM events WHERE id % 10 <> 0")
        try db.waitUntil("(SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'events') >= 45000")
        let dead = try db.run(PostgresDeadTuples.self)
        #expect(dead.status == .fail, "\(dead.message)")
        #expect(dead.message.contains("events"))
        #expect(try db.run(PostgresDeadTuples.self, ["warn": 20, "crit": 95]).status == .warn)

        try db.sql("ANALYZE events")
        let bloated = try db.run(PostgresTableBloat.self, small)
        #expect(bloated.status == .fail, "\(bloated.message)")
        #expect((bloated.metric("table_bloat") ?? 0) > 80)
        #expect(try db.run(PostgresTableBloat.self, ["min_size": 0, "warn": 50, "crit": 99]).status == .warn)
        #expect(try db.run(PostgresTableBloat.self).status == .ok, "a 7 MB table is under the default 10 MB floor")
        let bloatedIndex = try db.run(PostgresIndexBloat.self, small)
        #expect(bloatedIndex.status == .fail, "\(bloatedIndex.message)")
        #expect(bloatedIndex.message.contains("events_pkey"))
        #expect(try db.run(PostgresIndexBloat.self, ["min_size": 0, "warn": 50, "crit": 99]).status == .warn)

        // VACUUM FULL keeps rows another session's snapshot may still see (any open transaction in the
        // cluster's horizon, e.g. a concurrent suite's): rewrite until nothing holds them, at most 30 s.
        var dense: (table: StepOutcome, index: StepOutcome)
        let deadline = Date().addingTimeInterval(30)
        repeat {
            try db.sql("VACUUM FULL events")
            try db.sql("ANALYZE events")
            dense = (try db.run(PostgresTableBloat.self, small), try db.run(PostgresIndexBloat.self, small))
            if dense.table.status == .ok && dense.index.status == .ok { break }
            Thread.sleep(forTimeInterval: 0.5)
        } while Date() < deadline
        #expect(dense.table.status == .ok, "\(dense.table.message)")
        #expect(dense.index.status == .ok, "\(dense.index.message)")
    }

    @Test func aTableNeverAnalyzedIsStaleAndAnAnalyzedOneAgesOnlyOnceItChanges() throws {
        let db = try CatalogDatabase("analyze_age")
        try db.sql("""
            CREATE TABLE customers (id int PRIMARY KEY, name text) WITH (autovacuum_enabled = off);
            INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 2000) g
            """)
        try db.waitUntil("(SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'customers') = 2000")
        let never = try db.run(PostgresAnalyzeAge.self)
        #expect(never.status == .warn, "\(never.message)")
        #expect(never.message.contains("1 table(s) never analyzed: customers"), "\(never.message)")
        #expect(try db.run(PostgresAnalyzeAge.self, ["never": "fail"]).status == .fail)
        #expect(try db.run(PostgresAnalyzeAge.self, ["min_rows": 5000]).status == .ok, "below the row floor")

        try db.sql("ANALYZE customers")
        let fresh = try db.run(PostgresAnalyzeAge.self)
        #expect(fresh.status == .ok, "\(fresh.message)")

        try db.sql("UPDATE customers SET name = name || '!' WHERE id <= 10")
        try db.waitUntil("(SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'customers') >= 10")
        #expect(try db.run(PostgresAnalyzeAge.self).status == .ok, "changed a moment ago, analyzed a moment ago")
        #expect(try db.run(PostgresAnalyzeAge.self, ["warn": "1ms", "crit": "1h"]).status == .warn)
        let failed = try db.run(PostgresAnalyzeAge.self, ["warn": "1ms", "crit": "2ms"])
        #expect(failed.status == .fail)
        #expect(failed.message.contains("customers"))
    }

    @Test func vacuumAgeFollowsVacuumAndTheChangesAfterIt() throws {
        let db = try CatalogDatabase("vacuum_age")
        try db.sql("""
            CREATE TABLE invoices (id int PRIMARY KEY, total int) WITH (autovacuum_enabled = off);
            INSERT INTO invoices SELECT g, g FROM generate_series(1, 3000) g
            """)
        try db.waitUntil("(SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'invoices') = 3000")
        #expect(try db.run(PostgresVacuumAge.self).status == .warn, "never vacuumed")
        try db.sql("VACUUM invoices")
        #expect(try db.run(PostgresVacuumAge.self).status == .ok)
        try db.sql("DELETE FROM invoices WHERE id <= 100")
        try db.waitUntil("(SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'invoices') >= 100")
        #expect(try db.run(PostgresVacuumAge.self, ["warn": "1ms", "crit": "1h"]).status == .warn)
        #expect(try db.run(PostgresVacuumAge.self, ["warn": "1ms", "crit": "2ms"]).status == .fail)
    }
}
