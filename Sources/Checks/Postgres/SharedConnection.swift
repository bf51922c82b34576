import Foundation
import Postgres

/// One connection per database URL, shared by the health-catalog checks of a process: a health run
/// of 28 checks opens one backend instead of 28. Checks take turns on it; each runs its own
/// READ ONLY transaction with its own application_name and statement_timeout, so the server sees
/// which check is running. Connections of URLs unused for a while are closed (tests use many).
final class SharedConnections: @unchecked Sendable {
    static let shared = SharedConnections()

    final class Entry: @unchecked Sendable {
        let turn = NSLock()
        private let state = NSLock()
        var connection: PostgresConnection?
        var lastUsed = Date()
        private var holder: UUID?

        func hold(_ token: UUID?) { state.withLock { holder = token } }

        /// Cancels the running statement only while the step that asks still holds the connection.
        func cancel(ifHeldBy token: UUID) {
            let connection: PostgresConnection? = state.withLock { holder == token ? self.connection : nil }
            connection?.cancel()
        }
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    /// Idle connections kept open beyond this many URLs are closed, least recently used first.
    private let keep = 4

    func entry(for url: String) -> Entry {
        lock.withLock {
            if let entry = entries[url] { return entry }
            let entry = Entry()
            entries[url] = entry
            return entry
        }
    }

    /// Closes idle connections of the least recently used URLs beyond `keep`.
    func trim() {
        let idle: [Entry] = lock.withLock {
            let open = entries.filter { $0.value.connection != nil }.sorted { $0.value.lastUsed > $1.value.lastUsed }
            return open.dropFirst(keep).map(\.value)
        }
        for entry in idle where entry.turn.try() {
            entry.connection?.close()
            entry.connection = nil
            entry.turn.unlock()
        }
    }
}

extension StepContext {
    /// Runs `body` on the process's shared connection to the database (opened on first use), inside a
    /// READ ONLY transaction with a statement timeout and this step's application_name.
    func catalogReadOnly<T>(variable: String?, statementTimeoutMs: Int = 10_000, _ body: (PostgresConnection) throws -> T) throws -> T {
        try withCatalogConnection(variable: variable) { db in try readOnlyAsStep(db, statementTimeoutMs: statementTimeoutMs, body) }
    }

    /// A READ ONLY transaction on `db` that shows this step's application_name while it runs.
    func readOnlyAsStep<T>(_ db: PostgresConnection, statementTimeoutMs: Int = 10_000, _ body: (PostgresConnection) throws -> T) throws -> T {
        try db.readOnly(statementTimeoutMs: statementTimeoutMs) { db in
            try db.query("SELECT set_config('application_name', $1, true)", [applicationName])
            return try body(db)
        }
    }

    /// A check that compares with its own previous run: reads `read` (READ ONLY, as this step) together
    /// with the values `check` saved last time (HealthState), then saves `values(read, previous)` for the
    /// next run (nil: nothing saved), on the same shared connection. The save's problem (a replica, no
    /// CREATE right) is returned, not thrown: the check still reports, it just can't compare next time.
    func sincePreviousRun<T>(check: String, variable: String?, read: (PostgresConnection) throws -> T,
                             values: (T, [String: HealthState.Previous]) -> [String: Double]?) throws
        -> (value: T, previous: [String: HealthState.Previous], saveProblem: String?) {
        try withCatalogConnection(variable: variable) { connection in
            let (value, previous) = try readOnlyAsStep(connection) { db in (try read(db), try HealthState.previous(db, check: check)) }
            guard let next = values(value, previous) else { return (value, previous, nil) }
            return (value, previous, HealthState.save(connection, check: check, values: next))
        }
    }

    /// Runs `body` with the shared connection held (for checks that also save state after their read).
    func withCatalogConnection<T>(variable: String?, _ body: (PostgresConnection) throws -> T) throws -> T {
        let name = (variable?.isEmpty == false ? variable : nil) ?? databaseURLVariable
        guard let url = environment[name], !url.isEmpty else {
            // No URL: the usual connect reports it the usual way.
            let connection = try connect(variable: variable)
            defer { connection.close() }
            return try body(connection)
        }
        let pool = SharedConnections.shared
        let entry = pool.entry(for: url)
        entry.turn.lock()
        defer {
            entry.lastUsed = Date()
            entry.hold(nil)
            entry.turn.unlock()
            pool.trim()
        }
        if cancellation.isCancelled { throw StepError("cancelled before connecting") }
        if entry.connection == nil {
            do {
                entry.connection = try PostgresConnection(environmentVariable: name, environment: environment,
                                                          applicationName: applicationName, connectTimeout: 5)
            } catch let error as PostgresError {
                throw StepError(error.description, details: ["database": .string(error.endpoint ?? name)])
            }
        }
        guard let connection = entry.connection else { throw StepError("no connection to \(name)") }
        let token = UUID()
        entry.hold(token)
        cancellation.onCancel { [entry] in entry.cancel(ifHeldBy: token) }
        do {
            return try body(connection)
        } catch let error as PostgresError {
            // A lost or cancelled connection is not reused; a statement the server rejected leaves it fine.
            if [.connection, .cancelled, .timeout].contains(error.kind) {
                connection.close()
                entry.connection = nil
            }
            throw StepError(error.description, details: ["sqlstate": error.sqlState.map(JSONValue.string) ?? .null])
        }
    }
}
