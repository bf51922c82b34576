import Foundation
import Postgres
import Support

/// The session advisory lock that serialises appliers, held on its own connection so that
/// migration transactions (and their failures) never release it by accident.
final class MigrationLock {
    let connection: PostgresConnection
    let key: String
    /// The session that held the lock when we arrived, if we had to wait.
    private(set) var waitedFor: (pid: Int, application: String)?

    init(dsn: String, table: HistoryTable, applicationName: String) throws {
        key = Self.key(table)
        let name = String((applicationName + "/lock").prefix(63))
        // One opened ahead (while the files were parsed), if there is one and it is still good.
        if let ahead = PostgresSessionPool.takeOpenedAhead(dsn) {
            if (try? ahead.rename(name)) != nil {
                connection = ahead
                return
            }
            ahead.close()
        }
        do {
            connection = try PostgresConnection(dsn: dsn, applicationName: name)
        } catch let e as PostgresError {
            throw MigrationError.from(e, "connecting")
        }
    }

    /// The lock's name for `table`'s appliers.
    static func key(_ table: HistoryTable) -> String { "opsctl.migrations:" + table.displayName }

    /// Once the lock is ours: takes a second lock no other session takes (named after this session's
    /// pid) and returns its name, so that a statement on another session can tell cheaply whether this
    /// session is still there (see `HistoryTable.windowGuard`).
    func markHolder() throws -> String {
        let name = key + ":held-by:" + String(connection.backendPID)
        do { try connection.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [name]) } catch let e as PostgresError {
            throw MigrationError.from(e, "taking the migration lock")
        }
        return name
    }

    /// Takes the lock if it is free; false when another session holds it.
    func tryAcquire() throws -> Bool {
        do { return try connection.tryAdvisoryLock(key) } catch let e as PostgresError {
            throw MigrationError.from(e, "taking the migration lock")
        }
    }

    /// Takes the lock, waiting up to `timeout` seconds behind another applier (an interrupt ends the wait).
    func acquire(timeout: Double, cancellation: Cancellation) throws {
        do {
            if try connection.tryAdvisoryLock(key) { return }
            waitedFor = try holder()
            if try connection.advisoryLock(key, timeout: timeout, maxDelay: 0.5, cancellation: cancellation) { return }
            let current = try holder()
            throw MigrationError(.lockHeld,
                                 "another migration run holds the lock \(key)"
                                 + (current.map { LockHolder(pid: $0.pid, application: $0.application) }.map { ": \($0)" } ?? "")
                                 + " (waited \(String(format: "%.1f", timeout)) s)",
                                 nextStep: "wait for it to finish, or check pg_stat_activity for a stuck session")
        } catch let e as PostgresError where e.kind == .cancelled && cancellation.isCancelled {
            throw MigrationError(.interrupted, "\(cancellation.reason ?? "interrupted") while waiting for the migration lock \(key); nothing was run")
        } catch let e as PostgresError {
            throw MigrationError.from(e, "taking the migration lock")
        }
    }

    /// Who holds the lock in this database (advisory locks are per database; the same key may be held elsewhere).
    private func holder() throws -> (pid: Int, application: String)? {
        try connection.advisoryLockHolder(key).map { ($0.pid, $0.application) }
    }

    func release() {
        _ = try? connection.advisoryUnlock(key)
        connection.close()
    }
}
