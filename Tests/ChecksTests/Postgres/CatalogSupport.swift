import Foundation
import Postgres
import Testing
import TestSupport
@testable import Checks

/// Runs catalog kinds directly against a private sandbox database, and makes the conditions they detect.
struct CatalogDatabase {
    let url: String

    init(_ label: String) throws { url = try TestDatabase.fresh(label) }

    func run<K: StepKind>(_ kind: K.Type, _ with: [String: JSONValue] = [:]) throws -> StepOutcome {
        let step = try K(StepParameters(with, stepID: K.name))
        return try step.run(StepContext(environment: ["DATABASE_URL": url], applicationName: "opsctl/catalog-test/\(K.name)"))
    }

    func connect(_ application: String = "catalog-test") throws -> PostgresConnection {
        try PostgresConnection(dsn: url, applicationName: application)
    }

    /// Runs SQL on a short-lived session and forces its statistics out at once (PG15 flushes at most once a second otherwise).
    func sql(_ text: String) throws {
        let db = try connect()
        defer { db.close() }
        try db.execute(text)
        // Pending counters of the statement above go out with this forced flush.
        try db.execute("SELECT pg_stat_force_next_flush()")
    }

    func value(_ text: String) throws -> PostgresValue {
        let db = try connect()
        defer { db.close() }
        return try db.query(text).first?[0] ?? .null
    }

    /// Polls `condition` (a boolean SQL expression) until true: statistics and lock waits arrive asynchronously.
    func waitUntil(_ condition: String, timeout: Double = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try value("SELECT (\(condition))::bool").bool == true { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("timed out waiting for \(condition)")
    }
}

/// Runs a blocking statement on another thread; `wait()` returns its error, if any.
final class Background: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var failure: Error?

    init(_ db: PostgresConnection, _ sql: String) {
        Thread.detachNewThread { [self] in
            do { try db.execute(sql) } catch { failure = error }
            done.signal()
        }
    }

    @discardableResult
    func wait(timeout: Double = 30) -> Error? {
        _ = done.wait(timeout: .now() + timeout)
        return failure
    }
}

extension StepOutcome {
    func detail(_ key: String) -> JSONValue? { details[key] }
    func metric(_ name: String) -> Double? { metrics.first { $0.name == name }?.value }
}
