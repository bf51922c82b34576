import Foundation
import Postgres
import Testing
import TestSupport
@testable import Checks

/// `wait_for` polls another kind against the sandbox database: done when the condition is met (after
/// exactly as many polls as it took), a failure when the timeout passes first.
@Suite("wait_for", .enabled(if: TestDatabase.available), .serialized)
struct WaitForTests {
    let url: String

    init() throws {
        url = try TestDatabase.fresh("wait_for")
        let db = try PostgresConnection(dsn: url)
        defer { db.close() }
        try db.execute("CREATE TABLE deploys (id int PRIMARY KEY, state text)")
    }

    /// Polls `SELECT … FROM deploys WHERE state = 'done'` until exactly one row is there.
    func waitForDoneRow(interval: String = "50ms", timeout: String = "30s", extra: [String: JSONValue] = [:]) throws -> WaitFor {
        try WaitFor(StepParameters([
            "kind": "sql.query",
            "with": .object(["sql": "SELECT id FROM deploys WHERE state = 'done'", "expect_rows": 1]),
            "interval": .string(interval), "timeout": .string(timeout),
        ].merging(extra) { $1 }, stepID: "wait"))
    }

    final class Polls: @unchecked Sendable {
        let lock = NSLock()
        var count = 0
        func next() -> Int { lock.withLock { count += 1; return count } }
    }

    @Test func doneWhenARowInsertedByAnotherConnectionAppears() throws {
        let waitFor = try waitForDoneRow()
        var context = StepContext(environment: ["DATABASE_URL": url])
        // The row is inserted from another connection after the second unsuccessful poll: the third poll sees it.
        let polls = Polls()
        let writer = try PostgresConnection(dsn: url, applicationName: "deploy-writer")
        defer { writer.close() }
        context.progress = { _ in
            if polls.next() == 2 { _ = try? writer.query("INSERT INTO deploys VALUES (1, 'done')") }
        }
        let outcome = try waitFor.run(context)
        #expect(outcome.status == .ok, "\(outcome.message)")
        #expect(outcome.details["polls"] == .int(3), "\(outcome.details)")
        #expect(outcome.message.contains("after 3 poll(s)"), "\(outcome.message)")
        #expect(polls.count == 2, "one progress line per unsuccessful poll")
    }

    @Test func timeoutFails() throws {
        let waitFor = try waitForDoneRow(interval: "100ms", timeout: "1s")
        let db = try PostgresConnection(dsn: url)
        defer { db.close() }
        try db.execute("DELETE FROM deploys")
        let outcome = try waitFor.run(StepContext(environment: ["DATABASE_URL": url]))
        #expect(outcome.status == .fail, "\(outcome.message)")
        #expect(outcome.message.hasPrefix("gave up after"), "\(outcome.message)")
        let polls = outcome.details["polls"]?.int ?? 0
        #expect(polls >= 2, "polled more than once before giving up: \(outcome.details)")
        #expect(outcome.message.contains("0 rows, expected 1"), "the last poll's reason is kept: \(outcome.message)")
    }

    /// A poll that cannot be evaluated (no such table) stays an error after the timeout, with its reason.
    @Test func persistentErrorIsReportedAsError() throws {
        let waitFor = try WaitFor(StepParameters([
            "kind": "sql.query", "with": .object(["sql": "SELECT 1 FROM no_such_table"]),
            "interval": "100ms", "timeout": "500ms",
        ], stepID: "wait"))
        let outcome = try waitFor.run(StepContext(environment: ["DATABASE_URL": url]))
        #expect(outcome.status == .error, "\(outcome.message)")
        #expect(outcome.message.contains(#"relation "no_such_table" does not exist"#), "\(outcome.message)")
    }

    /// With accept_warn: false a warn keeps it polling; it gives up as a failure.
    @Test func warnIsNotDoneWithoutAcceptWarn() throws {
        let warnOnly: [String: JSONValue] = [
            "kind": "sql.query",
            "with": .object(["sql": "SELECT 5 AS lag", "thresholds": .object(["lag": .object(["warn": 1, "crit": 100])])]),
            "interval": "100ms", "timeout": "500ms",
        ]
        let accepting = try WaitFor(StepParameters(warnOnly, stepID: "wait")).run(StepContext(environment: ["DATABASE_URL": url]))
        #expect(accepting.status == .warn, "\(accepting.message)")
        #expect(accepting.details["polls"] == .int(1))
        var strict = warnOnly
        strict["accept_warn"] = false
        let refusing = try WaitFor(StepParameters(strict, stepID: "wait")).run(StepContext(environment: ["DATABASE_URL": url]))
        #expect(refusing.status == .fail, "\(refusing.message)")
        #expect((refusing.details["polls"]?.int ?? 0) >= 2)
    }

    @Test func cannotPollAMutatingKind() {
        #expect(throws: StepError.self) {
            try WaitFor(StepParameters(["kind": "sql.exec", "with": .object(["sql": "DELETE FROM deploys"])], stepID: "wait"))
        }
    }
}
