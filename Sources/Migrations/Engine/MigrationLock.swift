import Foundation
import Postgres

/// The session advisory lock that serialises appliers, held on its own connection so that
/// migration transactions (and their failures) never release it by accident.
final class MigrationLock {
    let connection: PostgresConnection
    let key: String
    /// The session that held the lock when we arrived, if we had to wait.
    private(set) var waitedFor: (pid: Int, application: String)?

    init(dsn: String, table: HistoryTable, applicationName: String) throws {
        key = "opsctl.migrations:" + table.displayName
        do {
            connection = try PostgresConnection(dsn: dsn, applicationName: String((applicationName + "/lock").prefix(63)))
        } catch let e as PostgresError {
            throw MigrationError.from(e, "connecting")
        }
    }

    /// Takes the lock, waiting up to `timeout` seconds behind another applier.
    func acquire(timeout: Double) throws {
        do {
            if try connection.tryAdvisoryLock(key) { return }
            if let holder = try connection.advisoryLockHolder(key) { waitedFor = (holder.pid, holder.application) }
            if try connection.advisoryLock(key, timeout: timeout) { return }
            let holder = try connection.advisoryLockHolder(key)
            throw MigrationError(.lockHeld,
                                 "another migration run holds the lock \(key)"
                                 + (holder.map { " (pid \($0.pid), \($0.application))" } ?? "") + " after waiting \(Int(timeout)) s",
                                 nextStep: "wait for it to finish, or check pg_stat_activity for a stuck session")
        } catch let e as PostgresError {
            throw MigrationError.from(e, "taking the migration lock")
        }
    }

    func release() {
        _ = try? connection.advisoryUnlock(key)
        connection.close()
    }
}
