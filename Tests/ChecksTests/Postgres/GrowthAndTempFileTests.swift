import Foundation
import Postgres
import Testing
import TestSupport
@testable import Checks

/// Checks that compare with the previous run keep their values in opsctl.health_state of the target database.
@Suite("Catalog: growth and temp files since the previous run", .enabled(if: TestDatabase.available))
struct GrowthAndTempFileTests {
    @Test func sortsThatSpillPastWorkMemWriteTempFilesCountedSinceThePreviousRun() throws {
        let db = try CatalogDatabase("temp_files")
        let first = try db.run(PostgresTempFiles.self)
        #expect(first.status == .ok)
        #expect(first.message.hasPrefix("first run: 0 temp file(s)"), "\(first.message)")
        #expect(try db.run(PostgresTempFiles.self, ["warn_bytes": 1]).status == .ok, "nothing spilled since the first run")

        let spill = "SET work_mem = '64kB'; SELECT count(*) FROM (SELECT g FROM generate_series(1, 200000) g ORDER BY random()) s"
        try db.sql(spill)
        try db.waitUntil("(SELECT temp_files FROM pg_stat_database WHERE datname = current_database()) >= 1")
        let warned = try db.run(PostgresTempFiles.self, ["warn_bytes": 1, "crit_bytes": 1_000_000_000])
        #expect(warned.status == .warn, "\(warned.message)")
        #expect((warned.metric("temp_bytes") ?? 0) > 1_000_000, "200k shuffled ints spill megabytes")
        #expect((warned.metric("temp_files") ?? 0) >= 1)

        let before = try db.value("SELECT temp_files FROM pg_stat_database WHERE datname = current_database()").int ?? 0
        try db.sql(spill)
        try db.waitUntil("(SELECT temp_files FROM pg_stat_database WHERE datname = current_database()) > \(before)")
        #expect(try db.run(PostgresTempFiles.self, ["warn_bytes": 1, "crit_bytes": 1]).status == .fail)
        #expect(try db.run(PostgresTempFiles.self).status == .ok)
    }

    @Test func databaseAndTableGrowthAreMeasuredFromThePreviousRun() throws {
        let db = try CatalogDatabase("growth")
        try db.sql("CREATE TABLE webhook_logs (id bigserial PRIMARY KEY, body text); CREATE TABLE settings (k text PRIMARY KEY, v text)")
        let firstDatabase = try db.run(PostgresDatabaseGrowth.self)
        #expect(firstDatabase.status == .ok)
        #expect(firstDatabase.message.hasPrefix("first run: database is"), "\(firstDatabase.message)")
        let firstTables = try db.run(PostgresTableGrowth.self)
        #expect(firstTables.message == "first run: 2 table(s) measured; the next runs report the growth since now")

        #expect(try db.run(PostgresDatabaseGrowth.self, ["warn_bytes": 1_048_576]).status == .ok, "no growth yet")
        #expect(try db.run(PostgresTableGrowth.self, ["warn_bytes": 1_048_576]).status == .ok)

        try db.sql("INSERT INTO webhook_logs (body) SELECT repeat(md5(g::text), 10) FROM generate_series(1, 20000) g")
        let grew = try db.run(PostgresDatabaseGrowth.self, ["warn_bytes": 1_048_576, "crit_bytes": 1_073_741_824])
        #expect(grew.status == .warn, "\(grew.message)")
        #expect((grew.metric("database_growth") ?? 0) > 5_000_000)
        let tableGrew = try db.run(PostgresTableGrowth.self, ["warn_bytes": 1_048_576, "crit_bytes": 1_073_741_824])
        #expect(tableGrew.status == .warn, "\(tableGrew.message)")
        #expect(tableGrew.message.contains("worst webhook_logs: grew"), "\(tableGrew.message)")

        try db.sql("INSERT INTO webhook_logs (body) SELECT repeat(md5(g::text), 10) FROM generate_series(1, 20000) g")
        #expect(try db.run(PostgresDatabaseGrowth.self, ["warn_bytes": 1_048_576, "crit_bytes": 2_097_152]).status == .fail)
        #expect(try db.run(PostgresTableGrowth.self, ["warn_bytes": 1_048_576, "crit_bytes": 2_097_152]).status == .fail)
        #expect(try db.run(PostgresDatabaseGrowth.self).status == .ok)
    }
}
