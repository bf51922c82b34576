import CLibPQ
import Foundation

/// Idle sessions kept between the steps of one run, by database URL: the migrate runbook's status,
/// lint, apply and verify steps each need a session, and a backend's start (fork, authentication, cold
/// catalog caches) costs the server more than what most steps then ask of it. A session is lent to one
/// borrower at a time (`take`), and only one given back idle (no transaction open, connection good) is
/// kept; `closeAll()` ends them all (the executor calls it when the run ends) and closes any given
/// back later. What a borrower changed in the session (settings, prepared statements) is its to undo.
public final class PostgresSessionPool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [String: [PostgresConnection]] = [:]
    private var closed = false

    public init() {}

    /// An idle session to `dsn` (or one opened ahead: `openAhead`), now the caller's; nil when there is none.
    public func take(_ dsn: String) -> PostgresConnection? {
        lock.withLock { idle[dsn]?.popLast() } ?? Self.takeOpenedAhead(dsn)
    }

    /// Keeps `db` for the next borrower of `dsn` when it is idle and the pool still open; closes it otherwise.
    public func giveBack(_ db: PostgresConnection, dsn: String) {
        let keep = db.isIdle && lock.withLock {
            guard !closed else { return false }
            idle[dsn, default: []].append(db)
            return true
        }
        if !keep { db.close() }
    }

    public func closeAll() {
        let all = lock.withLock {
            closed = true
            defer { idle.removeAll() }
            return idle.values.flatMap { $0 }
        }
        all.forEach { $0.close() }
    }
}

extension PostgresConnection {
    /// Open, connected and outside any transaction: fit to be lent again.
    public var isIdle: Bool {
        cancelLock.withLock { !closed && PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE }
    }

    /// Renames the session in pg_stat_activity (a session lent to another step takes that step's name).
    public func rename(_ applicationName: String) throws {
        let name = String(applicationName.prefix(63))
        guard name != self.applicationName else { return }
        try query("SELECT set_config('application_name', $1, false)", [name])
        self.applicationName = name
    }

    /// Undoes what SQL run on this session may have changed (settings, role, prepared statements, temporary
    /// tables, cursors, listeners, session advisory locks: DISCARD ALL), then sets again what a new
    /// session gets, so it can be lent as if new.
    public func resetSession() throws {
        try execute("DISCARD ALL")
        forgetPreparedStatements()
        try execute(Self.sessionSetup)
        try query("SELECT set_config('application_name', $1, false)", [applicationName])
    }
}
