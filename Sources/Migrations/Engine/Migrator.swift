import Foundation
import Postgres
import Support

/// The migrations engine for one database: status, apply, rollback, verify, repair, baseline.
/// Every method opens its own connections and closes them; errors are `MigrationError`.
public final class Migrator: Sendable {
    public let config: MigrationConfig
    let dsn: String
    let history: HistoryTable
    /// Stops apply and rollback between statements; the statement in flight is cancelled on the server.
    public let cancellation: Cancellation
    /// Sessions shared with the other steps of the run (status, lint, apply and verify on one backend).
    let sessions: PostgresSessionPool?

    /// `dsn` is the database URL (never printed). Cancelling `cancellation` (SIGINT/SIGTERM, a step's
    /// timeout) interrupts apply and rollback: the migration in flight is rolled back (or, run without a
    /// transaction, recorded as failed with how far it got), nothing after it runs. `sessions`: borrow
    /// the session from there and give it back (nil: a session of its own for each call).
    public init(config: MigrationConfig, dsn: String, cancellation: Cancellation = Cancellation(),
                sessions: PostgresSessionPool? = nil) throws {
        self.config = config
        self.dsn = dsn
        self.cancellation = cancellation
        self.sessions = sessions
        history = try HistoryTable(config.table)
    }

    /// The migration files (read again when a file changed since this process last read them).
    public func files() throws -> MigrationSet { try Discovery.load(config) }

    func connect(_ suffix: String = "") throws -> PostgresConnection {
        let db = try open(suffix)
        // An interrupt cancels the statement running on this session on the server (PQcancel), so a
        // long statement stops now instead of when it finishes.
        cancellation.onCancel { db.cancel() }
        return db
    }

    private func open(_ suffix: String = "") throws -> PostgresConnection {
        do {
            let db = try PostgresConnection(dsn: dsn, applicationName: String((config.applicationName + suffix).prefix(63)))
            Self.checkClient(db)
            return db
        } catch let e as PostgresError {
            throw MigrationError.from(e, "connecting")
        }
    }

    /// If this process dies (kill -9) mid-statement, the server otherwise runs the statement to its end,
    /// holding its locks, before it notices: have it check the client every second and abort (roll back)
    /// at once. Postgres 14+; older servers lack the setting.
    static func checkClient(_ db: PostgresConnection) { _ = try? db.execute("SET client_connection_check_interval = 1000") }

    /// Runs `body` on the run's shared session (borrowed, renamed for this step, given back idle), or on
    /// a session of its own when there is no pool. `resets`: `body` ran SQL not ours (migrations), whose
    /// effects on the session are undone before anyone else uses it.
    func withSession<T>(resets: Bool = false, _ body: (PostgresConnection) throws -> T) throws -> T {
        guard let sessions else {
            let db = try connect()
            defer { db.close() }
            return try body(db)
        }
        var db: PostgresConnection
        if let idle = sessions.take(dsn) {
            db = idle
            do { try db.rename(config.applicationName) } catch {
                // Gone since (server restart, idle timeout): a new one.
                db.close()
                db = try open()
            }
        } else {
            db = try open()
        }
        PhaseClock.mark("session ready")
        // Only while this call has it: the session goes on to other steps with other interrupts.
        let lent = Lent(db)
        cancellation.onCancel { lent.cancel() }
        defer {
            lent.end()
            if cancellation.isCancelled || (resets && !db.isIdle) {
                db.close()
            } else {
                if resets {
                    do { try db.resetSession(); Self.checkClient(db) } catch { db.close() }
                }
                sessions.giveBack(db, dsn: dsn)
            }
        }
        return try body(db)
    }
}

/// A session lent to one call: an interrupt cancels its statement only while the call has it.
private final class Lent: @unchecked Sendable {
    private let lock = NSLock()
    private var db: PostgresConnection?
    init(_ db: PostgresConnection) { self.db = db }
    func cancel() { lock.withLock { db?.cancel() } }
    func end() { lock.withLock { db = nil } }
}

extension Migrator {
    /// The error for work refused or stopped because the run was interrupted.
    func interrupted(_ what: String, version: Int64? = nil) -> MigrationError {
        MigrationError(.interrupted, "\(cancellation.reason ?? "interrupted"): \(what)", version: version)
    }

    /// Runs `body`, turning driver errors into `MigrationError`.
    @discardableResult
    func guarded<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as PostgresError { throw MigrationError.from(e, what) }
    }

    /// Files vs history.
    public func status() throws -> MigrationStatus {
        let set = try files()
        return try withSession { db in try readStatus(set, db) }
    }

    /// Parses a migration's up (or down) script; syntax errors become `.invalidInput` with file:line:col.
    static func script(_ m: Migration, down: Bool = false, cancellation: Cancellation? = nil) throws -> SQLScript {
        let file = down ? (m.downFile ?? m.upFile) : m.upFile
        do {
            return try SQLParser.parse(down ? (m.down ?? "") : m.up, file: file, cancellation: cancellation)
        } catch let e as SQLSyntaxError {
            throw MigrationError(.invalidInput, "syntax error: \(e.message)", location: e.location, version: m.version,
                                 nextStep: "fix the SQL; nothing was applied")
        } catch is CancellationError {
            throw MigrationError(.interrupted, "\(cancellation?.reason ?? "interrupted") while reading \(file); nothing was run",
                                 version: m.version)
        }
    }

    /// How a script must run: in a transaction, or statement by statement (and why).
    static func transactionMode(_ m: Migration, _ script: SQLScript, down: Bool = false) -> String? {
        if down ? Directives.has("no-transaction", in: m.down ?? "") : m.noTransactionDirective {
            return "-- opsctl:no-transaction directive"
        }
        for s in script.statements {
            if let reason = TransactionSafety.reason(s) { return "\(reason) at \(s.location)" }
            if s.kind == "TransactionStmt" { return "the file manages its own transaction (\(s.summary) at \(s.location))" }
        }
        return nil
    }

    static func plan(_ m: Migration, _ script: SQLScript, down: Bool) -> PlannedMigration {
        let reason = transactionMode(m, script, down: down)
        return PlannedMigration(version: m.version, name: m.name, file: down ? (m.downFile ?? "") : m.upFile,
                                transactional: reason == nil, nonTransactionalReason: reason,
                                statements: script.statements.map(\.summary), sql: script.source)
    }
}

extension Migrator {
    /// Starts connecting `count` sessions to `dsn` (set up as `connect` sets them up) while the caller
    /// still reads and parses the migration files; the steps' sessions and the migration lock's take
    /// them (`PostgresSessionPool.openAhead`). The caller closes the ones left with `closeOpenedAhead()`.
    public static func openSessionsAhead(dsn: String, applicationName: String, count: Int) {
        PostgresSessionPool.openAhead(dsn, count: count) {
            let db = try PostgresConnection(dsn: dsn, applicationName: String(applicationName.prefix(63)))
            checkClient(db)
            return db
        }
    }
}
