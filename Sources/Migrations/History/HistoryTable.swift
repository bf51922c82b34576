import Foundation
import Postgres

/// The history table (`opsctl.schema_migrations` by default) and its event log (`<table>_events`),
/// which records every apply, rollback, repair and baseline with who did it.
public struct HistoryTable: Sendable {
    public let schema: String
    public let name: String

    public init(_ qualified: String) throws {
        let parts = qualified.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw MigrationError(.invalidInput, "history table '\(qualified)' must be `table` or `schema.table`")
        }
        schema = parts.count == 2 ? parts[0] : "public"
        name = parts.last!
        self.qualified = quoteIdentifier(schema) + "." + quoteIdentifier(name)
        events = quoteIdentifier(schema) + "." + quoteIdentifier(name + "_events")
    }

    /// The quoted names, built once: every statement of a migration's bookkeeping names them.
    let qualified: String
    let events: String
    public var displayName: String { "\(schema).\(name)" }

    /// Who is running: `user@host` of the operator plus the database role.
    static let operatorName: String = {
        let env = ProcessInfo.processInfo.environment
        let user = env["USER"] ?? env["LOGNAME"] ?? "unknown"
        return "\(user)@\(ProcessInfo.processInfo.hostName)"
    }()

    func exists(_ db: PostgresConnection) throws -> Bool {
        try db.query("SELECT to_regclass($1) IS NOT NULL AS present", [qualified]).first?["present"].bool ?? false
    }

    /// Creates schema and tables when missing (call under the migration lock). The schema under the lock
    /// every creator of a schema holds (OpsctlSchema): the run's journal makes schema opsctl meanwhile.
    func ensure(_ db: PostgresConnection) throws {
        if try exists(db) { return }
        try OpsctlSchema.create(db, schema: schema, """
            CREATE TABLE IF NOT EXISTS \(qualified) (
                version bigint PRIMARY KEY,
                name text NOT NULL,
                checksum_up text NOT NULL,
                checksum_down text,
                status text NOT NULL CHECK (status IN ('applied', 'failed', 'partial')),
                success boolean GENERATED ALWAYS AS (status = 'applied') STORED,
                applied_at timestamptz NOT NULL DEFAULT now(),
                applied_by text NOT NULL,
                duration_ms bigint,
                execution_order bigint,
                statements_done integer NOT NULL DEFAULT 0,
                statements_total integer,
                error text,
                sqlstate text,
                error_statement integer
            );
            CREATE TABLE IF NOT EXISTS \(events) (
                id bigserial PRIMARY KEY,
                version bigint,
                action text NOT NULL,
                at timestamptz NOT NULL DEFAULT now(),
                by text NOT NULL,
                detail text
            )
            """, tables: "migrations:" + qualified)
    }

    /// All entries by version; empty when the table does not exist yet.
    func entries(_ db: PostgresConnection) throws -> [HistoryEntry] {
        guard try exists(db) else { return [] }
        return try rows(db)
    }

    /// All entries by version, the table known to exist.
    func rows(_ db: PostgresConnection) throws -> [HistoryEntry] {
        try db.query("""
            SELECT version, name, checksum_up, checksum_down, status, applied_at, applied_by, duration_ms,
                   execution_order, statements_done, statements_total, error, sqlstate, error_statement
              FROM \(qualified) ORDER BY version
            """).rows.map { r in
            HistoryEntry(version: Int64(r["version"].int ?? 0), name: r["name"].string ?? "",
                         checksumUp: r["checksum_up"].string ?? "", checksumDown: r["checksum_down"].string,
                         state: HistoryEntry.State(rawValue: r["status"].string ?? "") ?? .failed,
                         appliedAt: r["applied_at"].date, appliedBy: r["applied_by"].string ?? "",
                         durationMs: r["duration_ms"].int, executionOrder: r["execution_order"].int,
                         statementsDone: r["statements_done"].int ?? 0, statementsTotal: r["statements_total"].int,
                         error: r["error"].string, sqlState: r["sqlstate"].string, errorStatement: r["error_statement"].int)
        }
    }

    /// Inserts or replaces the row of `migration`.
    func record(_ db: PostgresConnection, _ m: Migration, state: HistoryEntry.State, durationMs: Int?,
                statementsDone: Int, statementsTotal: Int?, error: MigrationError? = nil, by: String = HistoryTable.operatorName,
                executionOrder: Int? = nil) throws {
        let s = recordStatement(m, state: state, durationMs: durationMs, statementsDone: statementsDone,
                                statementsTotal: statementsTotal, error: error, by: by, executionOrder: executionOrder)
        try db.query(s.sql, s.parameters)
    }

    /// The statement `record` runs. `durationMs` nil with `.applied` in a transaction: the time since the
    /// transaction began, measured by the server (a pipelined migration records itself before the client
    /// has seen its statements finish). `executionOrder` nil: the next after the history's highest (a scan
    /// of the history, which an apply under the lock avoids by counting).
    func recordStatement(_ m: Migration, state: HistoryEntry.State, durationMs: Int?, statementsDone: Int, statementsTotal: Int?,
                         error: MigrationError? = nil, by: String = HistoryTable.operatorName, executionOrder: Int? = nil,
                         durationSinceTransactionStart: Bool = false) -> PipelinedStatement {
        let duration = durationSinceTransactionStart ? "coalesce($7::bigint, (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint)" : "$7"
        let order = executionOrder == nil ? "(SELECT coalesce(max(execution_order), 0) + 1 FROM \(qualified))" : "$13::bigint"
        var parameters: [any PostgresBindable] = [m.version, m.name, m.checksumUp, m.checksumDown, state.rawValue, by, durationMs,
                                                  statementsDone, statementsTotal, error.map { $0.description }, error?.sqlState,
                                                  error?.statementIndex]
        if let executionOrder { parameters.append(executionOrder) }
        return PipelinedStatement("""
            INSERT INTO \(qualified) AS h (version, name, checksum_up, checksum_down, status, applied_by, duration_ms,
                                       execution_order, statements_done, statements_total, error, sqlstate, error_statement)
            VALUES ($1, $2, $3, $4, $5, $6, \(duration), \(order), $8, $9, $10, $11, $12)
            ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, checksum_up = EXCLUDED.checksum_up,
                checksum_down = EXCLUDED.checksum_down, status = EXCLUDED.status, applied_at = now(),
                applied_by = EXCLUDED.applied_by, duration_ms = EXCLUDED.duration_ms,
                execution_order = CASE WHEN h.status = EXCLUDED.status THEN h.execution_order ELSE EXCLUDED.execution_order END,
                statements_done = EXCLUDED.statements_done, statements_total = EXCLUDED.statements_total,
                error = EXCLUDED.error, sqlstate = EXCLUDED.sqlstate, error_statement = EXCLUDED.error_statement
            """, parameters)
    }

    /// Progress of a non-transactional migration, committed after each statement.
    func progress(_ db: PostgresConnection, version: Int64, done: Int) throws {
        try db.query("UPDATE \(qualified) SET statements_done = $2 WHERE version = $1", [version, done])
    }

    func delete(_ db: PostgresConnection, version: Int64) throws {
        let s = deleteStatement(version: version)
        try db.query(s.sql, s.parameters)
    }

    func deleteStatement(version: Int64) -> PipelinedStatement {
        PipelinedStatement("DELETE FROM \(qualified) WHERE version = $1", [version])
    }

    func event(_ db: PostgresConnection, version: Int64?, action: String, detail: String?) throws {
        let s = eventStatement(version: version, action: action, detail: detail)
        try db.query(s.sql, s.parameters)
    }

    /// The statement `event` runs.
    func eventStatement(version: Int64?, action: String, detail: String?) -> PipelinedStatement {
        PipelinedStatement("INSERT INTO \(events) (version, action, by, detail) VALUES ($1, $2, $3, $4)",
                           [version, action, HistoryTable.operatorName, detail])
    }

    /// `parameter` (text) followed by " in N ms", N measured by the server since the transaction began.
    static func withDuration(_ parameter: String) -> String {
        "\(parameter)::text || ' in ' || ((extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint)::text || ' ms'"
    }

    /// A pipelined apply's bookkeeping in one prepared statement: the `applied` row (its duration measured
    /// by the server since the transaction began) and its `apply` event, whose detail is `detail` + " in N ms".
    /// One statement instead of two, parsed and planned once per connection instead of once per migration.
    func appliedStatement(_ m: Migration, statements: Int, executionOrder: Int?, detail: String) -> PipelinedStatement {
        let row = recordStatement(m, state: .applied, durationMs: nil, statementsDone: statements, statementsTotal: statements,
                                  executionOrder: executionOrder, durationSinceTransactionStart: true)
        // The row's statement uses $1 (version) and $6 (who); the event adds its action and detail after its parameters.
        let n = row.parameters.count
        return PipelinedStatement("""
            WITH recorded AS (\(row.sql))
            INSERT INTO \(events) (version, action, by, detail) VALUES ($1, $\(n + 1), $6, \(Self.withDuration("$\(n + 2)")))
            """, row.parameters + ["apply", detail], prepared: true)
    }

    /// The first statement of a migration sent in a window: fails (division by zero, SQLSTATE 22012)
    /// unless the session holding the migration lock is still there — it also holds `holderKey`, a
    /// lock no other session takes, so a shared try on it fails while it lives (a few microseconds,
    /// where reading pg_locks costs the server 0.1–0.2 ms a migration); if opsctl was killed with
    /// migrations queued on the server, none of them runs unlocked — and, with `after`, unless that
    /// migration's `applied` row is committed (it was sent just before this one: when it failed,
    /// nothing of this one runs). It runs after the earlier migration's COMMIT on the same session,
    /// so it sees that commit.
    func windowGuard(after: Int64?, holderKey: String) -> PipelinedStatement {
        let held = "(NOT pg_try_advisory_xact_lock_shared(hashtextextended($1, 0)))::int"
        guard let after else {
            return PipelinedStatement("SELECT 1 / \(held) AS locked", [holderKey], prepared: true)
        }
        return PipelinedStatement("""
            SELECT 1 / (\(held) * (SELECT count(*) FROM \(qualified) WHERE version = $2 AND status = 'applied'))::int AS ready
            """, [holderKey, after], prepared: true)
    }

    /// A pipelined rollback's bookkeeping in one prepared statement: the row removed and the `rollback`
    /// event recorded (detail + " in N ms").
    func rolledBackStatement(version: Int64, detail: String) -> PipelinedStatement {
        PipelinedStatement("""
            WITH removed AS (DELETE FROM \(qualified) WHERE version = $1)
            INSERT INTO \(events) (version, action, by, detail) VALUES ($1, $2, $3, \(Self.withDuration("$4")))
            """, [version, "rollback", HistoryTable.operatorName, detail], prepared: true)
    }
}
