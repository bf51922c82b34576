import Foundation
import Postgres
import Support
import Testing
import TestSupport

@Suite("Postgres advisory locks", .enabled(if: TestDatabase.available))
struct AdvisoryLockTests {
    static let database = Result { try TestDatabase.fresh("pg_locks") }
    static let otherDatabase = Result { try TestDatabase.fresh("pg_locks_other") }
    let url: String

    init() throws { url = try Self.database.get() }

    // Names whose hashtextextended() is positive and negative: the holder lookup rebuilds the 64-bit key.
    @Test("try from two sessions; the holder is named", arguments: ["deploy/production", "opsctl:b", "lock-1"])
    func tryFromTwoSessions(name: String) throws {
        let a = try connect(url, application: "opsctl/test/holder-a")
        let b = try connect(url, application: "opsctl/test/waiter-b")
        #expect(try b.advisoryLockHolder(name) == nil)
        #expect(try a.tryAdvisoryLock(name))
        #expect(try !b.tryAdvisoryLock(name))
        let holder = try #require(try b.advisoryLockHolder(name))
        #expect(holder.pid == a.backendPID)
        #expect(holder.application == "opsctl/test/holder-a")
        #expect(holder.since.map { abs($0.timeIntervalSinceNow) < 300 } == true)
        #expect(try a.advisoryUnlock(name))
        #expect(try b.tryAdvisoryLock(name))
        #expect(try a.advisoryLockHolder(name)?.pid == b.backendPID)
        try b.advisoryUnlock(name)
    }

    @Test func waitTimesOutWhileHeld() throws {
        let a = try connect(url)
        let b = try connect(url)
        #expect(try a.tryAdvisoryLock("held-for-wait"))
        let started = Date()
        #expect(try !b.advisoryLock("held-for-wait", timeout: 0.3))
        #expect(Date().timeIntervalSince(started) < 5)
        try a.advisoryUnlock("held-for-wait")
    }

    @Test func waitSucceedsWhenReleased() throws {
        let a = try connect(url)
        let b = try connect(url)
        #expect(try a.tryAdvisoryLock("released-soon"))
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { _ = try? a.advisoryUnlock("released-soon") }
        #expect(try b.advisoryLock("released-soon", timeout: 10))
        #expect(try b.advisoryLockHolder("released-soon")?.pid == b.backendPID)
        try b.advisoryUnlock("released-soon")
    }

    @Test func locksAreReentrantPerSession() throws {
        let a = try connect(url)
        #expect(try a.tryAdvisoryLock("reentrant"))
        #expect(try a.tryAdvisoryLock("reentrant"))
        #expect(try a.advisoryUnlock("reentrant"))
        #expect(try a.advisoryUnlock("reentrant"))
        #expect(try !a.advisoryUnlock("reentrant"))
    }

    @Test func closingTheSessionReleases() throws {
        let a = try connect(url)
        let b = try connect(url)
        #expect(try a.tryAdvisoryLock("closed-session"))
        a.close()
        #expect(try b.advisoryLock("closed-session", timeout: 5))
        try b.advisoryUnlock("closed-session")
    }

    @Test("a lock held in another database is neither a conflict nor reported as the holder")
    func holderLookupStaysInTheDatabase() throws {
        let here = try connect(url)
        let there = try connect(Self.otherDatabase.get(), application: "opsctl/test/other-db")
        #expect(try there.tryAdvisoryLock("per-database"))
        #expect(try here.advisoryLockHolder("per-database") == nil)
        #expect(try here.tryAdvisoryLock("per-database"))
        #expect(try here.advisoryLockHolder("per-database")?.pid == here.backendPID)
        try here.advisoryUnlock("per-database")
        try there.advisoryUnlock("per-database")
    }

    @Test("cancelling a wait ends it at once with .cancelled, and the lock is not taken")
    func cancellingTheWaitEndsIt() throws {
        let a = try connect(url)
        let b = try connect(url)
        #expect(try a.tryAdvisoryLock("cancelled-wait"))
        let cancellation = Cancellation()
        // Late enough that the waiter is asleep between attempts (its second sleep lasts up to 10 s).
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { cancellation.cancel(reason: "interrupted by SIGINT") }
        let started = Date()
        #expect {
            _ = try b.advisoryLock("cancelled-wait", timeout: 60, maxDelay: 10, cancellation: cancellation)
        } throws: { error in
            (error as? PostgresError)?.kind == .cancelled && "\(error)".contains("interrupted by SIGINT")
        }
        #expect(Date().timeIntervalSince(started) < 5, "the wait ended on the interrupt, not after a sleep")
        #expect(try a.advisoryLockHolder("cancelled-wait")?.pid == a.backendPID)
        // Already cancelled: no attempt is made.
        #expect(throws: PostgresError.self) { try b.advisoryLock("cancelled-wait", timeout: 60, cancellation: cancellation) }
        try a.advisoryUnlock("cancelled-wait")
    }
}
