import Foundation
import Postgres
import Testing
import TestSupport
@testable import Checks

/// Cluster-wide catalog checks. Conditions other suites cannot cause (a slot, our own connections)
/// are made here; values that depend on the whole cluster are checked against limits placed around them.
@Suite("Catalog: cluster-wide checks", .enabled(if: TestDatabase.available), .serialized)
struct ClusterTests {
    @Test func connectionsAreGroupedByApplicationAndState() throws {
        let db = try CatalogDatabase("connection_states")
        let sessions = try (0..<3).map { _ in try db.connect("catalog-pool") }
        defer { sessions.forEach { $0.close() } }
        try sessions[0].execute("BEGIN; SELECT 1")
        let outcome = try db.run(PostgresConnectionStates.self, ["warn": 99, "crit": 100])
        #expect(outcome.status == .ok, "\(outcome.message)")
        let pool = try #require(outcome.detail("worst")?.array?.compactMap(\.object).first { $0["name"]?.string == "catalog-pool" })
        #expect(pool["connections"]?.int == 3)
        #expect(pool["states"]?.object?["idle"]?.int == 2)
        #expect(pool["states"]?.object?["idle in transaction"]?.int == 1)
        #expect(outcome.detail("by_state")?.object?["idle in transaction"]?.int ?? 0 >= 1)
        // 3 of max_connections (200 in the sandbox) is 1.5 %.
        #expect(try db.run(PostgresConnectionStates.self, ["warn": 1.5, "crit": 100]).status == .warn)
        #expect(try db.run(PostgresConnectionStates.self, ["warn": 1, "crit": 1.5]).status == .fail)
    }

    @Test func wraparoundAgesAreAShareOfTwoToThe31() throws {
        let db = try CatalogDatabase("wraparound")
        // Two sessions share-locking one row create a real multixact.
        try db.sql("CREATE TABLE plans (id int PRIMARY KEY); INSERT INTO plans VALUES (1)")
        let a = try db.connect(), b = try db.connect()
        defer { a.close(); b.close() }
        try a.execute("BEGIN; SELECT * FROM plans WHERE id = 1 FOR SHARE")
        try b.execute("BEGIN; SELECT * FROM plans WHERE id = 1 FOR SHARE")
        try a.execute("COMMIT")
        try b.execute("COMMIT")
        let ok = try db.run(PostgresXIDWraparound.self)
        #expect(ok.status == .ok, "\(ok.message)")
        let oldest = try #require(ok.detail("worst")?.array?.first?.object)
        #expect((oldest["age"]?.int ?? 0) > 0)
        #expect((ok.detail("checked")?.int ?? 0) >= 1)
        let tiny = 1.0 / 2_147_483_648 * 100 // one transaction, in percent of 2^31
        #expect(try db.run(PostgresXIDWraparound.self, ["warn": .double(tiny), "crit": 75]).status == .warn)
        #expect(try db.run(PostgresXIDWraparound.self, ["warn": .double(tiny), "crit": .double(tiny)]).status == .fail)
        #expect(try db.run(PostgresMultixactWraparound.self).status == .ok)
        #expect(try db.run(PostgresMultixactWraparound.self, ["warn": .double(tiny), "crit": 75]).status == .warn)
        #expect(try db.run(PostgresMultixactWraparound.self, ["warn": .double(tiny), "crit": .double(tiny)]).status == .fail)
    }

    @Test func anInactiveSlotHoldsWAL() throws {
        let db = try CatalogDatabase("replication_slots")
        let slot = "catalog_test_\(getpid())"
        try db.sql("SELECT pg_create_physical_replication_slot('\(slot)', true)")
        defer { try? db.sql("SELECT pg_drop_replication_slot('\(slot)')") }
        try db.sql("CREATE TABLE wal_filler AS SELECT g, md5(g::text) FROM generate_series(1, 20000) g")
        let warned = try db.run(PostgresReplicationSlots.self, ["warn_bytes": 1_000_000, "crit_bytes": 1_000_000_000_000])
        #expect(warned.status == .warn, "\(warned.message)")
        #expect(warned.detail("slots")?.array?.compactMap(\.object).contains { $0["name"]?.string == slot && $0["active"] == .bool(false) } == true)
        #expect(try db.run(PostgresReplicationSlots.self, ["warn_bytes": 1_000, "crit_bytes": 1_000_000]).status == .fail)
        try db.sql("SELECT pg_drop_replication_slot('\(slot)')")
        let ok = try db.run(PostgresReplicationSlots.self)
        #expect(ok.status == .ok, "\(ok.message)")
        #expect(ok.detail("slots")?.array?.compactMap(\.object).contains { $0["name"]?.string == slot } == false)
    }

    @Test func withoutReplicasReplicationLagIsOkAndSaysSo() throws {
        let db = try CatalogDatabase("replication_lag")
        let outcome = try db.run(PostgresReplicationLag.self)
        #expect(outcome.status == .ok)
        #expect(outcome.message == "no replicas connected (pg_stat_replication is empty): nothing lags")
        #expect(outcome.metric("replication_lag_bytes") == 0)
    }

    @Test func requestedCheckpointsAreAShareOfAllCheckpoints() throws {
        let db = try CatalogDatabase("checkpoints")
        try db.sql("CHECKPOINT")
        try db.sql("CHECKPOINT")
        try db.waitUntil("(SELECT checkpoints_req FROM pg_stat_bgwriter) >= 2")
        let tooFew = try db.run(PostgresCheckpoints.self, ["min_checkpoints": 1_000_000])
        #expect(tooFew.status == .ok)
        #expect(tooFew.message.contains("too few to judge"), "\(tooFew.message)")
        let share = try #require(tooFew.metric("requested_checkpoints"))
        #expect(share > 0 && share <= 100)
        #expect(try db.run(PostgresCheckpoints.self, ["min_checkpoints": 1, "warn": .double(share + 1), "crit": 101]).status == .ok)
        #expect(try db.run(PostgresCheckpoints.self, ["min_checkpoints": 1, "warn": .double(share / 2), "crit": 101]).status == .warn)
        #expect(try db.run(PostgresCheckpoints.self, ["min_checkpoints": 1, "warn": .double(share / 2), "crit": .double(share / 2)]).status == .fail)
    }

    @Test func cacheHitRatiosAreSmallerIsWorse() throws {
        let db = try CatalogDatabase("cache_hit")
        try db.sql("CREATE TABLE lookups (id int PRIMARY KEY, v text); INSERT INTO lookups SELECT g, g::text FROM generate_series(1, 20000) g")
        for _ in 0..<3 { try db.sql("SET enable_seqscan = off; SELECT count(*) FROM lookups WHERE id BETWEEN 1 AND 5000") }
        try db.waitUntil("(SELECT idx_blks_hit FROM pg_statio_user_tables WHERE relname = 'lookups') > 0")
        let kinds: [(any StepKind.Type, String)] = [(PostgresCacheHitTables.self, "table_cache_hit"), (PostgresCacheHitIndexes.self, "index_cache_hit")]
        for (kind, metric) in kinds {
            let measured = try run(kind, db, ["min_blocks": 1, "warn": 0, "crit": 0])
            #expect(measured.status == .ok, "\(measured.message)")
            let ratio = try #require(measured.metric(metric))
            #expect(ratio > 0 && ratio <= 100)
            // `below`: at or under the limit fires, above it does not. Every run of the check is itself
            // served from cache, so the ratio can only creep up between runs: limits a little above it.
            let justAbove = min(100, ratio + 0.5)
            #expect(try run(kind, db, ["min_blocks": 1, "warn": .double(justAbove), "crit": 0]).status == .warn)
            #expect(try run(kind, db, ["min_blocks": 1, "warn": 100, "crit": .double(justAbove)]).status == .fail)
            #expect(try run(kind, db, ["min_blocks": 1, "warn": .double(ratio - 1), "crit": 0]).status == .ok)
            #expect(try run(kind, db, ["min_blocks": 100_000_000, "warn": 100, "crit": 100]).message.contains("too few to judge"))
        }
    }

    func run(_ kind: any StepKind.Type, _ db: CatalogDatabase, _ with: [String: JSONValue]) throws -> StepOutcome {
        let step = try kind.init(StepParameters(with, stepID: kind.name))
        return try step.run(StepContext(environment: ["DATABASE_URL": db.url], applicationName: "opsctl/catalog-test/\(kind.name)"))
    }

    @Test func topQueriesAreSkippedWhenPgStatStatementsIsAbsentOrNotLoaded() throws {
        let db = try CatalogDatabase("top_queries_absent")
        let absent = try db.run(PostgresTopQueries.self)
        #expect(absent.status == .skipped)
        #expect(absent.message == "skipped: pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements)")
        let preload = try db.value("SELECT current_setting('shared_preload_libraries')").string ?? ""
        try #require(!preload.contains("pg_stat_statements"), "the shared sandbox does not preload it")
        try db.sql("CREATE EXTENSION pg_stat_statements")
        let notLoaded = try db.run(PostgresTopQueries.self)
        #expect(notLoaded.status == .skipped)
        #expect(notLoaded.message.contains("not in shared_preload_libraries"), "\(notLoaded.message)")
    }
}
