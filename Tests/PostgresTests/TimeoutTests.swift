import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Postgres read-only, timeouts and cancellation", .enabled(if: TestDatabase.available))
struct TimeoutTests {
    static let database = Result {
        let url = try TestDatabase.fresh("pg_timeouts")
        try connect(url).execute("CREATE TABLE guarded (id int)")
        return url
    }
    let url: String
    let db: PostgresConnection

    init() throws {
        url = try Self.database.get()
        db = try connect(url)
    }

    @Test func readOnlyRejectsWrites() throws {
        let error = try #require(postgresError {
            _ = try db.readOnly { c in try c.query("INSERT INTO guarded VALUES ($1)", [1]) }
        })
        #expect(error.sqlState == "25006")
        #expect(error.kind == .query)
        #expect(try db.value("SHOW transaction_read_only") == .text("off"), "the transaction ended")
        #expect(try db.value("SELECT 1") == .int(1))
    }

    @Test func readOnlyReadsAndReturns() throws {
        let (count, readOnly) = try db.readOnly { c in
            (try c.value("SELECT count(*) FROM guarded").int, try c.value("SHOW transaction_read_only").string)
        }
        #expect(count != nil)
        #expect(readOnly == "on")
    }

    @Test func readOnlyAppliesItsStatementTimeout() throws {
        let error = try #require(postgresError {
            _ = try db.readOnly(statementTimeoutMs: 100) { c in try c.query("SELECT pg_sleep(10)") }
        })
        #expect(error.kind == .timeout)
        #expect(error.isStatementTimeout)
        #expect(try db.value("SHOW statement_timeout") == .text("0"), "SET LOCAL ended with the transaction")
    }

    @Test func statementTimeoutFires() throws {
        try db.setTimeouts(statementMs: 150)
        let started = Date()
        let error = try #require(postgresError { _ = try db.query("SELECT pg_sleep(10)") })
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(error.kind == .timeout)
        #expect(error.sqlState == "57014")
        #expect(error.isStatementTimeout)
        #expect(!error.isLockTimeout)
        try db.setTimeouts(statementMs: 0)
        #expect(try db.value("SELECT pg_sleep(0.2)::text") == .text(""))
    }

    @Test func lockTimeoutFires() throws {
        let holder = try connect(url, application: "opsctl/test/lock-holder")
        try holder.execute("BEGIN; LOCK TABLE guarded IN ACCESS EXCLUSIVE MODE")
        defer { _ = try? holder.execute("ROLLBACK") }
        try db.setTimeouts(lockMs: 150)
        let error = try #require(postgresError { _ = try db.query("SELECT count(*) FROM guarded") })
        #expect(error.kind == .timeout)
        #expect(error.sqlState == "55P03")
        #expect(error.isLockTimeout)
        #expect(!error.isStatementTimeout)
        try db.setTimeouts(lockMs: 0)
    }

    @Test func transactionHelperSetsLockTimeout() throws {
        let holder = try connect(url, application: "opsctl/test/lock-holder")
        try holder.execute("BEGIN; LOCK TABLE guarded IN ACCESS EXCLUSIVE MODE")
        defer { _ = try? holder.execute("ROLLBACK") }
        let error = try #require(postgresError {
            _ = try db.transaction(lockTimeoutMs: 150) { c in try c.query("INSERT INTO guarded VALUES (1)") }
        })
        #expect(error.isLockTimeout)
        #expect(try db.value("SHOW lock_timeout") == .text("0"))
    }

    @Test("cancel() from another thread stops pg_sleep(30)")
    func cancelFromAnotherThread() throws {
        let observer = try connect(url, application: "opsctl/test/observer")
        let pid = db.backendPID
        let db = self.db
        let cancelledAt = Stamp()
        DispatchQueue.global().async {
            if (try? waitUntilActive(pid: pid, fragment: "pg_sleep(30)", observer: observer)) == true {
                cancelledAt.set()
                db.cancel()
            }
        }
        let error = try #require(postgresError { _ = try db.query("SELECT pg_sleep(30)") })
        let stopAfter = try #require(cancelledAt.elapsed)
        #expect(stopAfter < 5, "took \(stopAfter) s after cancel()")
        #expect(error.kind == .cancelled)
        #expect(error.sqlState == "57014")
        #expect(error.description.contains("cancelled"))
        #expect(try db.value("SELECT 1") == .int(1), "the connection is usable after a cancel")
    }

    @Test("a cancel() between statements stops the next one, once, and is not remembered after")
    func cancelBetweenStatements() throws {
        db.cancel()
        let error = try #require(postgresError { _ = try db.query("SELECT pg_sleep(30)") })
        #expect(error.kind == .cancelled)
        #expect(try db.value("SELECT 1") == .int(1))
        try db.setTimeouts(statementMs: 100)
        let timeout = try #require(postgresError { _ = try db.query("SELECT pg_sleep(10)") })
        #expect(timeout.kind == .timeout, "a statement timeout is not relabelled as a cancel")
        try db.setTimeouts(statementMs: 0)
    }

    @Test func cancelBetweenStatementsInATransactionStillRollsBack() throws {
        let error = postgresError {
            _ = try db.transaction { c in
                try c.query("INSERT INTO guarded VALUES ($1)", [42])
                c.cancel()
                try c.query("SELECT 1")
            }
        }
        #expect(error?.kind == .cancelled)
        #expect(try db.value("SELECT count(*) FROM guarded WHERE id = 42") == .int(0))
        #expect(try db.value("SELECT 1") == .int(1))
    }

    @Test func setTimeoutsScopes() throws {
        try db.setTimeouts(statementMs: 1234, lockMs: 567)
        #expect(try db.value("SHOW statement_timeout") == .text("1234ms"))
        #expect(try db.value("SHOW lock_timeout") == .text("567ms"))
        try db.execute("BEGIN")
        try db.setTimeouts(statementMs: 99, local: true)
        #expect(try db.value("SHOW statement_timeout") == .text("99ms"))
        try db.execute("COMMIT")
        #expect(try db.value("SHOW statement_timeout") == .text("1234ms"))
        try db.setTimeouts(statementMs: -5, lockMs: 0)
        #expect(try db.value("SHOW statement_timeout") == .text("0"))
        try db.setTimeouts()
    }
}

/// When something happened, readable from another thread.
final class Stamp: @unchecked Sendable {
    private let lock = NSLock()
    private var at: Date?
    func set() { lock.withLock { at = Date() } }
    var elapsed: Double? { lock.withLock { at.map { Date().timeIntervalSince($0) } } }
}
