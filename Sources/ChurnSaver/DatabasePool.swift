import Foundation
import Postgres

/// A bounded pool of libpq connections. libpq calls block, so they run on a dispatch queue,
/// never on the server's event loops; at most `size` of them run at once.
final class DatabasePool: @unchecked Sendable {
    private let dsn: String
    private let size: Int
    private let faults: FaultSwitch
    private let lock = NSLock()
    private var idle: [PostgresConnection] = []
    private var opened = 0
    /// Each waiter gets a connection handed over, or nil: "a slot is free, open one".
    private var waiters: [CheckedContinuation<PostgresConnection?, Never>] = []
    private let queue = DispatchQueue(label: "churn-saver.database", attributes: .concurrent)

    /// Runs on each new connection (session settings, per-session functions).
    private let setup: @Sendable (PostgresConnection) throws -> Void

    init(dsn: String, size: Int, faults: FaultSwitch, setup: @escaping @Sendable (PostgresConnection) throws -> Void = { _ in }) {
        self.dsn = dsn
        self.size = size
        self.faults = faults
        self.setup = setup
    }

    /// Runs `body` with a pooled connection off the event loop. A connection that fails with a
    /// connection error is dropped, so the next request reconnects.
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        if faults.current.dbDown {
            throw PostgresError(kind: .connection, message: "database unavailable (injected fault db_down)")
        }
        let connection = try await acquire()
        do {
            let value = try await offload { try body(connection) }
            release(connection)
            return value
        } catch let error as PostgresError where error.kind == .connection {
            discard(connection)
            throw error
        } catch {
            release(connection)
            throw error
        }
    }

    private func acquire() async throws -> PostgresConnection {
        let handed: PostgresConnection? = await withCheckedContinuation { continuation in
            lock.withLock {
                if let connection = idle.popLast() {
                    continuation.resume(returning: connection)
                } else if opened < size {
                    opened += 1
                    continuation.resume(returning: nil)
                } else {
                    waiters.append(continuation)
                }
            }
        }
        if let handed { return handed }
        let dsn = self.dsn, setup = self.setup
        do {
            return try await offload {
                let connection = try PostgresConnection(dsn: dsn, applicationName: "churn-saver", connectTimeout: 3)
                try connection.setTimeouts(statementMs: 15_000, lockMs: 5_000)
                try setup(connection)
                return connection
            }
        } catch {
            freeSlot()
            throw error
        }
    }

    private func release(_ connection: PostgresConnection) {
        lock.withLock {
            if waiters.isEmpty {
                idle.append(connection)
            } else {
                waiters.removeFirst().resume(returning: connection)
            }
        }
    }

    private func discard(_ connection: PostgresConnection) {
        connection.close()
        freeSlot()
    }

    private func freeSlot() {
        lock.withLock {
            if waiters.isEmpty {
                opened -= 1
            } else {
                waiters.removeFirst().resume(returning: nil)
            }
        }
    }

    func closeAll() {
        let connections = lock.withLock { () -> [PostgresConnection] in
            defer { idle.removeAll() }
            return idle
        }
        connections.forEach { $0.close() }
    }

    private func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}
