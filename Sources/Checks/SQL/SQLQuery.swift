import Foundation
import Postgres

/// A read-only query whose result columns become metrics with thresholds.
public struct SQLQuery: StepKind {
    public static let name = "sql.query"
    public static let summary = "Run a read-only query; named result columns become metrics checked against thresholds"
    public static let parameters: [ParameterSpec] = [
        .init("sql", .string, required: true, "the query (runs in a READ ONLY transaction); ${...} in it becomes a bound $n").code(.sql(boundBy: "params")),
        .init("params", .list, "bound parameters $1, $2, ..."),
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
        .init("thresholds", .map, "per column: { warn: N, crit: N, below: false, unit: ms } — the first row's value; a limit fires at value >= limit (<= with below: true); with a baseline also increase_pct, increase_abs, decrease_pct, decrease_abs: { warn: N, crit: N }"),
        .init("window", .string, "the time window the query covers (15m, 1h, '15 minutes'): ${window.start} and ${window.end} in the SQL are bound to its bounds, so a baseline can run the same SQL over another window"),
        .init("baseline", .string, "compare the thresholded columns with: previous (the window before), 24h-ago (any duration: the window shifted), last-ok (the value the last ok run of this runbook recorded), run:<id>; --baseline-env NAME runs the query on that environment instead"),
        .init("baseline_missing", .string, default: "warn", "status when there is no baseline value to compare with: ok, warn or fail"),
        .init("expect_rows", .int, "exact number of rows expected"),
        .init("max_rows", .int, "more rows than this fails (e.g. 0 for 'no orphans')"),
        .init("message", .string, "message template; {column} is replaced by the first row's value"),
        .init("statement_timeout", .duration, default: "30s", "statement timeout"),
    ]
    public static let mutates = false
    public static let example = """
        - id: backends
          kind: sql.query
          with:
            sql: SELECT count(*) AS backends FROM pg_stat_activity WHERE datname = current_database()
            thresholds: { backends: { warn: 50, crit: 100 } }
            message: "{backends} backends"
        """

    let sql: String
    let params: [String]
    let variable: String?
    let thresholds: [(column: String, thresholds: Thresholds, unit: String?)]
    let expectRows: Int?
    let maxRows: Int?
    let message: String?
    let timeoutMs: Int
    let stepID: String
    /// Seconds; nil when the query is not windowed.
    let window: Double?
    let baseline: BaselineSource?
    let baselineMissing: StepStatus
    /// Relative limits per column (columns with none are still compared and shown when there is a baseline).
    let relative: [String: RelativeThresholds]

    public init(_ p: StepParameters) throws {
        sql = try p.string("sql")
        params = (p["params"]?.array ?? []).map { $0.string ?? $0.jsonText }
        variable = try p.optionalString("database_url_env")
        thresholds = try p.map("thresholds").sorted { $0.key < $1.key }.map { column, spec in
            guard let o = spec.object else { throw StepError("step '\(p.stepID)': thresholds.\(column) must be a mapping like { warn: 10, crit: 20 }") }
            let below = o["below"]?.bool ?? false
            return (column, Thresholds(warn: o["warn"]?.double, crit: o["crit"]?.double, direction: below ? .below : .above), o["unit"]?.string)
        }
        stepID = p.stepID
        var relative: [String: RelativeThresholds] = [:]
        for (column, spec) in try p.map("thresholds") {
            let limits = try RelativeThresholds(spec.object ?? [:], where: "step '\(p.stepID)': thresholds.\(column)")
            if !limits.isEmpty { relative[column] = limits }
        }
        self.relative = relative
        (window, baseline, baselineMissing) = try Self.baselineSettings(p, sql: sql, params: params, relative: !relative.isEmpty)
        expectRows = p["expect_rows"]?.int
        maxRows = p["max_rows"]?.int
        message = try p.optionalString("message")
        timeoutMs = Int(try p.duration("statement_timeout", default: 30) * 1000)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        if window != nil || baseline != nil { return try runWithBaseline(context) }
        let result = try context.readOnlyQuery(variable: variable, statementTimeoutMs: timeoutMs) { db in
            try db.query(sql, params)
        }
        return evaluate(result)
    }

    func evaluate(_ result: QueryResult) -> StepOutcome {
        let first = result.first
        var status = StepStatus.ok
        var metrics: [Metric] = []
        var problems: [String] = []
        for (column, limits, unit) in thresholds {
            guard let value = first?[column].double else {
                problems.append("column '\(column)' is missing or not numeric")
                status = .error
                continue
            }
            let s = limits.status(for: value)
            if s.severity > status.severity { status = s }
            if s != .ok { problems.append("\(column) = \(Self.format(value))") }
            metrics.append(limits.metric(column, value, unit: unit))
        }
        if let expectRows, result.rows.count != expectRows {
            status = .fail
            problems.append("\(result.rows.count) rows, expected \(expectRows)")
        }
        if let maxRows, result.rows.count > maxRows {
            status = .fail
            problems.append("\(result.rows.count) rows, at most \(maxRows) allowed")
        }
        let rows: [JSONValue] = result.rows.prefix(20).map { row in
            .object(Dictionary(uniqueKeysWithValues: zip(row.columnNames, row.values.map(Self.json))))
        }
        var text = message ?? (problems.isEmpty ? "\(result.rows.count) row(s)" : "")
        if let first { text = Self.fill(text, with: first) }
        if !problems.isEmpty { text = text.isEmpty ? problems.joined(separator: "; ") : text + " — " + problems.joined(separator: "; ") }
        return .init(status, text, details: ["rows": .array(rows), "row_count": .int(result.rows.count)], metrics: metrics)
    }

    /// A message template with `{column}` replaced by the row's values (sql.query and sql.exec).
    static func fill(_ template: String, with row: Row) -> String {
        var text = template
        for (i, name) in row.columnNames.enumerated() { text = text.replacingOccurrences(of: "{\(name)}", with: display(row[i])) }
        return text
    }

    /// Values as a person reads them in a message: 18.18 rather than 18.181818181818183.
    static func display(_ value: PostgresValue) -> String {
        if case let .double(d) = value { return format(d) }
        return value.string ?? "NULL"
    }

    static func format(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
        var text = String(format: "%.2f", v)
        while text.hasSuffix("0") { text.removeLast() }
        return text.hasSuffix(".") ? String(text.dropLast()) : text
    }

    static func json(_ value: PostgresValue) -> JSONValue {
        switch value {
        case .null: return .null
        case let .int(i): return .int(Int(i))
        case let .double(d): return .double(d)
        case let .bool(b): return .bool(b)
        case let .json(text): return JSONValue.parse(text) ?? .string(text)
        case let .array(a): return .array(a.map(json))
        default: return .string(value.string ?? "")
        }
    }
}
