import Foundation
import Postgres
import Testing
import TestSupport
@testable import Checks

/// The Postgres health kinds driven to ok, warn and fail by real sessions: a lock held from another
/// connection with sessions queued behind it, a transaction left open, sessions idle in transaction,
/// connections opened, data inserted. These kinds look at the whole server (pg_stat_activity), so they
/// run against a cluster of their own, where no other suite's sessions are counted.
@Suite("Postgres health kinds, ok to warn to fail", .enabled(if: TestDatabase.available), .serialized)
struct PostgresHealthTests {
    /// A private sandbox cluster beside the shared one (its own socket directory).
    static let cluster: Result<String, Error> = Result {
        let base = ProcessInfo.processInfo.environment["OPSCTL_TEST_SANDBOX_DIR"] ?? "/tmp/opsctl-test-\(getuid())"
        let sandbox = Sandbox(directory: base + "-health", port: TestDatabase.sandbox.port)
        try sandbox.up()
        return try sandbox.createDatabase("health_\(getpid())")
    }

    let url: String

    init() throws {
        url = try Self.cluster.get()
    }

    func check<K: StepKind>(_ kind: K.Type, _ values: [String: JSONValue]) throws -> StepOutcome {
        try K(StepParameters(values, stepID: "health")).run(StepContext(environment: ["DATABASE_URL": url]))
    }

    func connect(_ name: String) throws -> PostgresConnection {
        try PostgresConnection(dsn: url, applicationName: "health-test/\(name)")
    }

    /// Runs `sql` on its own connection on a background thread (it blocks until the lock is released).
    func blockedQuery(_ sql: String, _ group: DispatchGroup) throws -> PostgresConnection {
        let connection = try connect("waiter")
        group.enter()
        Thread.detachNewThread {
            _ = try? connection.query(sql)
            group.leave()
        }
        return connection
    }

    func count(_ sql: String) throws -> Int {
        let db = try connect("observer")
        defer { db.close() }
        return try db.query(sql).first?[0].int ?? -1
    }

    // MARK: - postgres.lock_waits

    @Test func lockWaitsGoFromOkToWarnToFailAndBack() throws {
        let setup = try connect("setup")
        try setup.execute("DROP TABLE IF EXISTS locked; CREATE TABLE locked (id int)")
        setup.close()
        let thresholds: [String: JSONValue] = ["warn": 1, "crit": 3]
        #expect(try check(PostgresLockWaits.self, thresholds).status == .ok)

        let holder = try connect("holder")
        defer { holder.close() }
        try holder.execute("BEGIN; LOCK TABLE locked IN ACCESS EXCLUSIVE MODE")
        let waiters = DispatchGroup()
        var sessions = [try blockedQuery("SELECT count(*) FROM locked", waiters)]
        let waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        #expect(eventually { (try? count(waiting)) == 1 })
        let warn = try check(PostgresLockWaits.self, thresholds)
        #expect(warn.status == .warn, "\(warn.message)")
        // The message names the root of the blocking chain, with what it is doing.
        #expect(warn.message.contains("root blocker pid \(holder.backendPID)"), "\(warn.message)")

        sessions += [try blockedQuery("SELECT count(*) FROM locked", waiters), try blockedQuery("SELECT count(*) FROM locked", waiters)]
        #expect(eventually { (try? count(waiting)) == 3 })
        let fail = try check(PostgresLockWaits.self, thresholds)
        #expect(fail.status == .fail, "\(fail.message)")
        #expect(fail.metrics.first { $0.name == "lock_waits" }?.value == 3)

        try holder.execute("COMMIT")
        #expect(waiters.wait(timeout: .now() + 30) == .success)
        sessions.forEach { $0.close() }
        #expect(try check(PostgresLockWaits.self, thresholds).status == .ok)
    }

    // MARK: - postgres.long_transactions

    @Test func aTransactionLeftOpenWarnsThenFails() throws {
        #expect(try check(PostgresLongTransactions.self, ["warn": "1s", "crit": "1h"]).status == .ok)
        let open = try connect("sleeper")
        defer { open.close() }
        try open.execute("BEGIN")
        _ = try open.query("SELECT pg_sleep(1.5)")
        let warn = try check(PostgresLongTransactions.self, ["warn": "1s", "crit": "1h"])
        #expect(warn.status == .warn, "\(warn.message)")
        #expect(warn.details["pid"] == .int(open.backendPID), "\(warn.details)")
        // The same transaction, only older than the critical age: fail.
        let fail = try check(PostgresLongTransactions.self, ["warn": "500ms", "crit": "1s"])
        #expect(fail.status == .fail, "\(fail.message)")
        try open.execute("COMMIT")
        #expect(try check(PostgresLongTransactions.self, ["warn": "1s", "crit": "1h"]).status == .ok)
    }

    // MARK: - postgres.idle_in_transaction

    @Test func sessionsIdleInTransactionWarnThenFail() throws {
        let limits: [String: JSONValue] = ["older_than": "1s", "warn": 1, "crit": 2]
        #expect(try check(PostgresIdleInTransaction.self, limits).status == .ok)
        let first = try connect("idle-1")
        defer { first.close() }
        try first.execute("BEGIN; SELECT 1")
        // Idle, but not yet for longer than older_than: not counted.
        let young = try check(PostgresIdleInTransaction.self, ["older_than": "1h", "warn": 1, "crit": 2])
        #expect(young.status == .ok, "\(young.message)")
        #expect(eventually(timeout: 30) { (try? check(PostgresIdleInTransaction.self, limits).status) == .warn })
        let warn = try check(PostgresIdleInTransaction.self, limits)
        #expect(warn.message.contains("pid \(first.backendPID)"), "\(warn.message)")

        // A second session, in an aborted transaction: both count.
        let second = try connect("idle-2")
        defer { second.close() }
        try second.execute("BEGIN")
        _ = try? second.query("SELECT 1/0")
        #expect(eventually(timeout: 30) { (try? check(PostgresIdleInTransaction.self, limits).status) == .fail })
        let fail = try check(PostgresIdleInTransaction.self, limits)
        #expect(fail.metrics.first { $0.name == "idle_in_transaction" }?.value == 2, "\(fail.message)")

        try first.execute("ROLLBACK")
        try second.execute("ROLLBACK")
        #expect(try check(PostgresIdleInTransaction.self, limits).status == .ok)
    }

    // MARK: - postgres.connections

    @Test func openingConnectionsWarnsThenFails() throws {
        let before = try check(PostgresConnections.self, ["warn": 90, "crit": 95])
        #expect(before.status == .ok, "\(before.message)")
        let used = Double(before.details["used"]?.int ?? 0), max = Double(before.details["max"]?.int ?? 200)
        // Limits a few connections apart (background workers come and go), as percentages of max_connections.
        let limits: [String: JSONValue] = ["warn": .double((used + 4) / max * 100), "crit": .double((used + 16) / max * 100)]
        #expect(try check(PostgresConnections.self, limits).status == .ok)
        var opened: [PostgresConnection] = []
        defer { opened.forEach { $0.close() } }
        for i in 0..<10 { opened.append(try connect("extra-\(i)")) }
        let warn = try check(PostgresConnections.self, limits)
        #expect(warn.status == .warn, "\(warn.message)")
        for i in 10..<26 { opened.append(try connect("extra-\(i)")) }
        let fail = try check(PostgresConnections.self, limits)
        #expect(fail.status == .fail, "\(fail.message)")
    }

    // MARK: - postgres.database_size

    @Test func insertedDataWarnsThenFails() throws {
        let before = try check(PostgresDatabaseSize.self, [:])
        #expect(before.status == .ok)
        let size = Double(before.details["bytes"]?.int ?? 0)
        let mb = 1024.0 * 1024
        let limits: [String: JSONValue] = ["warn_bytes": .double(size + 4 * mb), "crit_bytes": .double(size + 24 * mb)]
        #expect(try check(PostgresDatabaseSize.self, limits).status == .ok)
        let db = try connect("filler")
        defer { db.close() }
        try db.execute("DROP TABLE IF EXISTS filler; CREATE TABLE filler (pad text)")
        // About 10 MB, then about 30 MB more: rows of ~1 kB of md5 text (below the TOAST threshold, not compressed).
        let rows = "SELECT (SELECT string_agg(md5(i::text || '-' || j::text), '') FROM generate_series(1, 30) j) FROM generate_series"
        try db.execute("INSERT INTO filler \(rows)(1, 10000) i")
        let warn = try check(PostgresDatabaseSize.self, limits)
        #expect(warn.status == .warn, "\(warn.message)")
        try db.execute("INSERT INTO filler \(rows)(10001, 40000) i")
        let fail = try check(PostgresDatabaseSize.self, limits)
        #expect(fail.status == .fail, "\(fail.message)")
        try db.execute("DROP TABLE filler")
    }

    // MARK: - postgres.connect

    @Test func connectLatencyAndServerVersion() throws {
        let ok = try check(PostgresConnect.self, ["latency_warn": "1h", "latency_crit": "2h"])
        #expect(ok.status == .ok, "\(ok.message)")
        // Any real round trip takes longer than zero.
        let slow = try check(PostgresConnect.self, ["latency_warn": "0s", "latency_crit": "1h"])
        #expect(slow.status == .warn, "\(slow.message)")
        let slower = try check(PostgresConnect.self, ["latency_warn": "0s", "latency_crit": "0s"])
        #expect(slower.status == .fail, "\(slower.message)")
        let fail = try check(PostgresConnect.self, ["min_version": 99])
        #expect(fail.status == .fail)
        #expect(fail.message.contains("older than the required 99"), "\(fail.message)")
    }
}
