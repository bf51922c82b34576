import Foundation
import Support
import Postgres

/// A mutating statement in a transaction with lock and statement timeouts.
public struct SQLExec: StepKind {
    public static let name = "sql.exec"
    public static let summary = "Run a mutating statement in a transaction (lock_timeout, statement_timeout); dry-run shows it and its EXPLAIN"
    public static let parameters: [ParameterSpec] = [
        .init("sql", .string, required: true, "the statement; ${...} in it becomes a bound $n").code(.sql(boundBy: "params")),
        .init("params", .list, "bound parameters $1, $2, ..."),
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
        .init("lock_timeout", .duration, default: "5s", "lock_timeout for the transaction"),
        .init("statement_timeout", .duration, default: "60s", "statement_timeout for the transaction"),
        .init("max_rows", .int, "fail (and roll back) when more rows than this are affected"),
        .init("message", .string, "message template: {rows} is the affected row count, {column} a value of the first returned row"),
    ]
    public static let mutates = true
    public static let example = """
        - id: purge-old-request-logs
          kind: sql.exec
          with:
            sql: DELETE FROM request_log WHERE created_at < now() - make_interval(days => $1::int)
            params: [30]
        """

    let sql: String
    let params: [String]
    let variable: String?
    let lockMs: Int, statementMs: Int
    let maxRows: Int?
    let message: String?

    public init(_ p: StepParameters) throws {
        sql = try p.string("sql")
        params = (p["params"]?.array ?? []).map { $0.string ?? $0.jsonText }
        variable = try p.optionalString("database_url_env")
        lockMs = Int(try p.duration("lock_timeout", default: 5) * 1000)
        statementMs = Int(try p.duration("statement_timeout", default: 60) * 1000)
        maxRows = p["max_rows"]?.int
        message = try p.optionalString("message")
    }

    public func plan(_ context: StepContext) throws -> String {
        // EXPLAIN is read-only for DML; a plan helps the operator judge the blast radius.
        let explained = try checkedExplain(context)
        // Mask before cutting to 160 characters: a cut secret would leave its head behind.
        let oneLine = SecretMasker.shared.mask(sql.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " "))
        var text = "would execute in a transaction: \(oneLine.count > 160 ? oneLine.prefix(157) + "..." : Substring(oneLine))"
        text += "\n  lock_timeout \(lockMs) ms, statement_timeout \(statementMs) ms\n  \(sql)"
        // JSON-quoted (as the masker knows secrets' escaped forms), not Swift's debug quoting.
        if !params.isEmpty { text += "\n  params: [" + params.map { JSONValue.string($0).jsonText }.joined(separator: ", ") + "]" }
        if let explained { text += "\n  plan:\n" + explained.map { "    " + $0 }.joined(separator: "\n") }
        return text
    }

    struct TooManyRows: Error { let count: Int }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let connection = try context.connect(variable: variable)
        defer { connection.close() }
        do {
            let result = try connection.transaction(statementTimeoutMs: statementMs, lockTimeoutMs: lockMs) { db in
                let r = try db.query(sql, params)
                if let maxRows, r.affectedRows > maxRows { throw TooManyRows(count: r.affectedRows) }
                return r
            }
            var text = message ?? "\(result.commandTag): \(result.affectedRows) row(s)"
            text = text.replacingOccurrences(of: "{rows}", with: String(result.affectedRows))
            if let first = result.first { text = SQLQuery.fill(text, with: first) }
            return .ok(text,
                       details: ["command": .string(result.commandTag), "rows": .int(result.affectedRows)],
                       metrics: [Metric(name: "rows_affected", value: Double(result.affectedRows), unit: "count")])
        } catch let error as TooManyRows {
            return .init(.fail, "would affect \(error.count) rows, more than max_rows \(maxRows ?? 0): rolled back")
        } catch let error as PostgresError {
            let blocked = error.isLockTimeout ? " (another session holds a conflicting lock: see postgres.lock_waits)"
                : error.sqlState == "25001" ? " (use the postgres.maintenance kind for VACUUM, REINDEX, CREATE/DROP INDEX CONCURRENTLY)" : ""
            throw StepError(error.description + blocked, details: ["sqlstate": error.sqlState.map(JSONValue.string) ?? .null])
        }
    }
}
