import Foundation
import Postgres
import Testing
import TestSupport
@testable import Checks

/// Real sessions block each other on a private database: a chain of two blockers, then a real deadlock.
@Suite("Catalog: lock chain and deadlocks", .enabled(if: TestDatabase.available), .serialized)
struct LockAndDeadlockTests {
    @Test func aChainOfTwoBlockersIsReportedWithTheRootBlockersQuery() throws {
        let db = try CatalogDatabase("lock_chain")
        try db.sql("CREATE TABLE accounts (id int PRIMARY KEY, balance int); INSERT INTO accounts VALUES (1, 0), (2, 0)")
        #expect(try db.run(PostgresLockWaits.self).status == .ok)

        let head = try db.connect("chain-head"), middle = try db.connect("chain-middle"), tail = try db.connect("chain-tail")
        defer { [head, middle, tail].forEach { $0.close() } }
        try head.execute("BEGIN")
        try head.execute("UPDATE accounts SET balance = 1 WHERE id = 1")
        try middle.execute("BEGIN; UPDATE accounts SET balance = 2 WHERE id = 2")
        let middleWaits = Background(middle, "UPDATE accounts SET balance = 3 WHERE id = 1")
        try db.waitUntil("EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = \(middle.backendPID) AND wait_event_type = 'Lock')")
        let tailWaits = Background(tail, "UPDATE accounts SET balance = 4 WHERE id = 2")
        try db.waitUntil("EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = \(tail.backendPID) AND wait_event_type = 'Lock')")

        let warned = try db.run(PostgresLockWaits.self, ["warn": 1, "crit": 5])
        #expect(warned.status == .warn, "\(warned.message)")
        let waiting = warned.detail("waiting")?.array ?? []
        let tailEntry = try #require(waiting.compactMap(\.object).first { $0["pid"]?.int == tail.backendPID })
        #expect(tailEntry["chain"]?.array?.compactMap(\.int) == [tail.backendPID, middle.backendPID, head.backendPID])
        let root = try #require(warned.detail("root_blockers")?.array?.first?.object)
        #expect(root["pid"]?.int == head.backendPID)
        #expect(root["query"]?.string == "UPDATE accounts SET balance = 1 WHERE id = 1")
        #expect(root["state"]?.string == "idle in transaction")
        #expect(warned.message.contains("\(tail.backendPID) ← \(middle.backendPID) ← \(head.backendPID)"), "\(warned.message)")
        #expect(warned.metric("lock_chain_depth") == 2)

        #expect(try db.run(PostgresLockWaits.self, ["warn": 1, "crit": 2]).status == .fail)

        try head.execute("ROLLBACK")
        #expect(middleWaits.wait() == nil)
        try middle.execute("ROLLBACK")
        #expect(tailWaits.wait() == nil)
        #expect(try db.run(PostgresLockWaits.self).status == .ok)
    }

    /// Two sessions lock two rows in opposite orders; Postgres kills one after deadlock_timeout.
    func causeDeadlock(_ db: CatalogDatabase) throws {
        let a = try db.connect("deadlock-a"), b = try db.connect("deadlock-b")
        defer { a.close(); b.close() }
        try a.execute("SET deadlock_timeout = '100ms'; BEGIN; UPDATE accounts SET balance = balance + 1 WHERE id = 1")
        try b.execute("SET deadlock_timeout = '100ms'; BEGIN; UPDATE accounts SET balance = balance + 1 WHERE id = 2")
        let aWaits = Background(a, "UPDATE accounts SET balance = balance + 1 WHERE id = 2")
        try db.waitUntil("EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = \(a.backendPID) AND wait_event_type = 'Lock')")
        let bError: Error?
        do { try b.execute("UPDATE accounts SET balance = balance + 1 WHERE id = 1"); bError = nil } catch { bError = error }
        let aError = aWaits.wait()
        let victim = [aError, bError].compactMap { $0 }
        #expect(victim.count == 1, "exactly one session is the deadlock victim")
        #expect(victim.first.map { "\($0)".contains("deadlock") } == true, "\(victim)")
        for session in [a, b] { try session.execute("ROLLBACK; SELECT pg_stat_force_next_flush()") }
    }

    @Test func aRealDeadlockIsCountedOnceAsTheDeltaSinceThePreviousRun() throws {
        let db = try CatalogDatabase("deadlocks")
        try db.sql("CREATE TABLE accounts (id int PRIMARY KEY, balance int); INSERT INTO accounts VALUES (1, 0), (2, 0)")

        let first = try db.run(PostgresDeadlocks.self)
        #expect(first.status == .ok)
        #expect(first.message.hasPrefix("first run: 0 deadlock(s)"), "\(first.message)")

        try causeDeadlock(db)
        try db.waitUntil("(SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()) >= 1")
        let warned = try db.run(PostgresDeadlocks.self, ["warn": 1, "crit": 2])
        #expect(warned.status == .warn, "\(warned.message)")
        #expect(warned.metric("deadlocks") == 1)
        #expect(warned.message.hasPrefix("1 deadlock(s) since the previous run"), "\(warned.message)")

        let quiet = try db.run(PostgresDeadlocks.self)
        #expect(quiet.status == .ok, "nothing new since the previous run: \(quiet.message)")
        #expect(quiet.metric("deadlocks") == 0)

        try causeDeadlock(db)
        try db.waitUntil("(SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()) >= 2")
        let failed = try db.run(PostgresDeadlocks.self, ["warn": 1, "crit": 1])
        #expect(failed.status == .fail, "\(failed.message)")
        #expect(failed.detail("total_since_stats_reset")?.int == 2)
        #expect(try db.value("SELECT value FROM opsctl.health_state WHERE check_name = 'postgres.deadlocks'").double == 2)
    }
}
