import Foundation
import Migrations
import Postgres

extension SQLExec {
    /// The dry-run's checks, none of which changes anything: the statement parses (libpg_query), it can run
    /// inside the transaction `run` opens (no VACUUM, CREATE INDEX CONCURRENTLY, ...), it is one statement as
    /// the extended protocol requires, the database is reachable, and the planner accepts it: EXPLAIN
    /// without ANALYZE, in a READ ONLY transaction, checks its tables, columns and bound parameters.
    /// Returns the EXPLAIN output, or nil for a statement the planner does not explain (DDL).
    func checkedExplain(_ context: StepContext) throws -> [String]? {
        let script: SQLScript
        do {
            script = try SQLParser.parse(sql, file: "sql")
        } catch let error as SQLSyntaxError {
            throw StepError("\(error.message) (line \(error.location.line), column \(error.location.column)) [SQLSTATE 42601]",
                            details: ["sqlstate": "42601"])
        }
        if let refused = script.statements.lazy.compactMap(\.transactionBlockRefusal).first {
            throw StepError("\(refused) cannot run inside a transaction block [SQLSTATE 25001]; sql.exec runs its statement in a transaction: use the postgres.maintenance kind (VACUUM, ANALYZE, REINDEX, CREATE/DROP INDEX CONCURRENTLY) or a migration marked non-transactional",
                            details: ["sqlstate": "25001"])
        }
        if script.statements.count > 1 {
            throw StepError("cannot insert multiple commands into a prepared statement [SQLSTATE 42601]; sql.exec runs one statement: split it into steps",
                            details: ["sqlstate": "42601"])
        }
        let connection = try context.connect(variable: variable)
        defer { connection.close() }
        guard let statement = script.statements.first, statement.isExplainable else { return nil }
        do {
            return try connection.readOnly(statementTimeoutMs: 5_000) { db in
                try db.query("EXPLAIN " + statement.text, params).rows.compactMap { $0[0].string }
            }
        } catch let error as PostgresError {
            throw StepError(error.description, details: ["sqlstate": error.sqlState.map(JSONValue.string) ?? .null])
        }
    }
}
