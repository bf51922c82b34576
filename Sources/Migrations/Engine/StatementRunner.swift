import Foundation
import Postgres
import Support

/// Runs the statements of one script on one connection, mapping errors to `file:line:col`
/// and naming the sessions that block us when lock_timeout fires.
struct StatementRunner {
    let db: PostgresConnection
    let config: MigrationConfig
    let cancellation: Cancellation

    /// Runs `statement`; a failure becomes a `MigrationError` located in `script`. Once the run is
    /// interrupted no further statement starts.
    func run(_ statement: SQLStatement, in script: SQLScript, version: Int64) throws {
        if cancellation.isCancelled {
            throw MigrationError(.interrupted, "\(cancellation.reason ?? "interrupted") before this statement started",
                                 location: statement.location, version: version, statementIndex: statement.index,
                                 statement: statement.summary)
        }
        do {
            try db.execute(statement.text)
        } catch let e as PostgresError {
            throw error(e, statement, script, version)
        }
    }

    func error(_ e: PostgresError, _ s: SQLStatement, _ script: SQLScript, _ version: Int64) -> MigrationError {
        if e.kind == .connection {
            return MigrationError(.connection, e.message, location: s.location, sqlState: e.sqlState, version: version,
                                  statementIndex: s.index, statement: s.summary, nextStep: e.nextStep)
        }
        if e.kind == .cancelled {
            return MigrationError(.interrupted, "\(cancellation.reason ?? "interrupted"): the statement was cancelled on the server",
                                  location: s.location, sqlState: e.sqlState, version: version, statementIndex: s.index,
                                  statement: s.summary)
        }
        var message = e.message
        if let detail = e.detail, !detail.isEmpty { message += " — \(detail)" }
        return MigrationError(e.isLockTimeout ? .lockTimeout : .statementFailed, message,
                              location: script.location(of: s, serverPosition: e.position), sqlState: e.sqlState,
                              version: version, statementIndex: s.index, statement: s.summary, nextStep: e.hint)
    }

    /// Sessions holding locks on the relations `statement` touches (call after rolling back).
    func blockers(of statement: SQLStatement) -> [(pid: Int, application: String, state: String)] {
        let names = SchemaEffects.relations(in: statement.tree).map(\.quoted)
            + (statement.kind == "DropStmt" ? SchemaEffects.dropTargets(statement.node).map(\.relation.quoted) : [])
        guard !names.isEmpty else { return [] }
        let rows = (try? db.query("""
            SELECT DISTINCT a.pid, a.application_name, a.state
              FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.granted AND l.pid <> pg_backend_pid() AND l.locktype = 'relation'
               AND l.relation IN (SELECT to_regclass(n)::oid FROM unnest($1::text[]) AS n WHERE to_regclass(n) IS NOT NULL)
             ORDER BY a.pid
            """, [names]).rows) ?? []
        return rows.map { ($0["pid"].int ?? 0, $0["application_name"].string ?? "", $0["state"].string ?? "") }
    }

    static func describe(_ blockers: [(pid: Int, application: String, state: String)]) -> String {
        guard !blockers.isEmpty else { return "the blocking session had finished by the time we looked" }
        return "blocked by " + blockers.map { b in
            "pid \(b.pid)" + (b.application.isEmpty ? "" : " (\(b.application)") + (b.state.isEmpty ? "" : (b.application.isEmpty ? " (" : ", ") + b.state) + (b.application.isEmpty && b.state.isEmpty ? "" : ")")
        }.joined(separator: ", ")
    }

    /// Backoff before attempt `n` (1-based retry number).
    func backoff(_ n: Int) -> Double { config.retryDelay * pow(2, Double(n - 1)) }
}
