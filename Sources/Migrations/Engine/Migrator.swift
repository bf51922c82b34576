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

    /// `dsn` is the database URL (never printed). Cancelling `cancellation` (SIGINT/SIGTERM, a step's
    /// timeout) interrupts apply and rollback: the migration in flight is rolled back (or, run without a
    /// transaction, recorded as failed with how far it got), nothing after it runs.
    public init(config: MigrationConfig, dsn: String, cancellation: Cancellation = Cancellation()) throws {
        self.config = config
        self.dsn = dsn
        self.cancellation = cancellation
        history = try HistoryTable(config.table)
    }

    /// The migration files (read again when a file changed since this process last read them).
    public func files() throws -> MigrationSet { try Discovery.load(config) }

    func connect(_ suffix: String = "") throws -> PostgresConnection {
        do {
            let db = try PostgresConnection(dsn: dsn, applicationName: String((config.applicationName + suffix).prefix(63)))
            // If this process dies (kill -9) mid-statement, the server otherwise runs the statement to
            // its end, holding its locks, before it notices: have it check the client every second
            // and abort (roll back) at once. Postgres 14+; older servers lack the setting.
            _ = try? db.execute("SET client_connection_check_interval = 1000")
            // An interrupt cancels the statement running on this session on the server (PQcancel), so a
            // long statement stops now instead of when it finishes.
            cancellation.onCancel { db.cancel() }
            return db
        } catch let e as PostgresError {
            throw MigrationError.from(e, "connecting")
        }
    }

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
        let db = try connect()
        defer { db.close() }
        return try guarded("reading \(history.displayName)") {
            let exists = try history.exists(db)
            let rows = try history.entries(db)
            return MigrationStatus.compute(set, history: rows, historyExists: exists, allowOutOfOrder: config.allowOutOfOrder)
        }
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
