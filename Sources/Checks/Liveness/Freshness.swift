import Foundation
import Postgres

/// Is a cron or scheduler job still doing its work? Either the newest value of a timestamp column is
/// young enough, or a counter column has changed recently (its last value and when it last changed are
/// kept in opsctl.health_state, so the check sees movement between runs).
public struct Freshness: StepKind {
    public static let name = "freshness"
    public static let summary = "Liveness of a cron/scheduler job: newest timestamp in a table younger than a limit, or a counter column that keeps changing"
    public static let parameters: [ParameterSpec] = [
        .init("table", .string, required: true, "table (schema.table allowed)"),
        .init("column", .string, "timestamp column: its max() is the newest activity (e.g. last_nudge_at)"),
        .init("counter", .string, "numeric column whose sum must keep changing (e.g. attempts); instead of column"),
        .init("where", .string, "SQL condition selecting the job's rows; ${...} in it becomes a bound $n").code(.sql(boundBy: "where_params")),
        .init("where_params", .list, "bound parameters $1, $2, ... of where"),
        .init("warn", .duration, "age (newest row, or time since the counter last changed) at or above which the step warns"),
        .init("crit", .duration, "age at or above which the step fails"),
        .init("empty", .string, default: "fail", "status when no row matches: fail, warn or ok"),
        Catalog.database,
    ]
    public static let mutates = false
    public static let example = """
        - id: webhooks-arriving
          kind: freshness
          with: { table: request_log, column: created_at, warn: 1h, crit: 6h, empty: warn }
        """

    let table: String
    let column: String?
    let counter: String?
    let condition: String?
    let conditionParams: [String]
    let thresholds: Thresholds
    let empty: StepStatus
    let variable: String?

    public init(_ p: StepParameters) throws {
        table = try p.string("table")
        column = try p.optionalString("column")
        counter = try p.optionalString("counter")
        guard (column == nil) != (counter == nil) else {
            throw StepError("step '\(p.stepID)': give either column (a timestamp) or counter (a number), not both or neither")
        }
        condition = try p.optionalString("where")
        conditionParams = (p["where_params"]?.array ?? []).map { $0.string ?? $0.jsonText }
        thresholds = Thresholds(warn: try p.duration("warn"), crit: try p.duration("crit"))
        guard thresholds.warn != nil || thresholds.crit != nil else {
            throw StepError("step '\(p.stepID)': set warn and/or crit (e.g. crit: 26h)")
        }
        switch try p.string("empty", default: "fail") {
        case "fail": empty = .fail
        case "warn": empty = .warn
        case "ok": empty = .ok
        default: throw StepError("step '\(p.stepID)': empty must be fail, warn or ok")
        }
        variable = try p.optionalString("database_url_env")
    }

    var subject: String { "\(table).\(column ?? counter ?? "")" + (condition == nil ? "" : " where \(condition!)") }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let filter = condition.map { " WHERE (\($0))" } ?? ""
        let from = "FROM \(quoteQualifiedName(table))\(filter)"
        if let column {
            let row = try context.withCatalogConnection(variable: variable) { connection in
                try context.readOnlyAsStep(connection) { db in
                    try db.query("SELECT max(\(quoteIdentifier(column)))::timestamptz AS newest, extract(epoch FROM now() - max(\(quoteIdentifier(column)))::timestamptz)::float8 AS age \(from)",
                                 conditionParams).first
                }
            }
            guard let age = row?["age"].double else { return noRows() }
            let newest = row?["newest"].date.map { ISO8601DateFormatter().string(from: $0) } ?? "?"
            return judge(age: max(age, 0), "newest \(subject) is \(Catalog.age(max(age, 0))) old (\(newest))",
                         details: ["newest": .string(newest)])
        }
        let counter = counter!
        let key = "freshness:\(subject)"
        let (current, previous, saveProblem) = try context.sincePreviousRun(check: key, variable: variable, read: { db in
            try db.query("SELECT sum(\(quoteIdentifier(counter)))::float8 AS total \(from)", conditionParams).first?["total"].double
        }, values: { current, previous in
            guard let current else { return nil }
            // The value, and when it last changed: unchanged values keep their old change time.
            let changedAt = previous["value"]?.value == current ? previous["changed_at"]?.value ?? Date().timeIntervalSince1970 : Date().timeIntervalSince1970
            return ["value": current, "changed_at": changedAt]
        })
        guard let current else { return noRows() }
        var details: [String: JSONValue] = ["value": .double(current)]
        if let saveProblem { details["state"] = .string(saveProblem) }
        guard let last = previous["value"] else {
            return .init(.ok, "first run: sum of \(subject) is \(Self.number(current)); the next runs report whether it moves",
                         details: details, metrics: [thresholds.metric("unchanged_for", 0, unit: "s", min: 0)])
        }
        details["previous"] = .double(last.value)
        if last.value != current {
            // Moving is the answer, whatever the limits (crit: 0s means "must move between every two runs").
            return .init(.ok, "sum of \(subject) moved from \(Self.number(last.value)) to \(Self.number(current)) since the previous run",
                         details: details, metrics: [thresholds.metric("unchanged_for", 0, unit: "s", min: 0)])
        }
        let since = previous["changed_at"].map { Date(timeIntervalSince1970: $0.value) } ?? last.recordedAt
        let age = max(Date().timeIntervalSince(since), 0)
        details["unchanged_since"] = .string(ISO8601DateFormatter().string(from: since))
        return judge(age: age, "sum of \(subject) is still \(Self.number(current)), unchanged for \(Catalog.age(age))", details: details,
                     metric: "unchanged_for")
    }

    func judge(age: Double, _ message: String, details: [String: JSONValue], metric: String = "age") -> StepOutcome {
        let status = thresholds.status(for: age)
        let limit = status == .fail ? thresholds.crit : status == .warn ? thresholds.warn : nil
        return .init(status, message + (limit.map { " (limit \(Catalog.age($0)))" } ?? ""), details: details,
                     metrics: [thresholds.metric(metric, age, unit: "s", min: 0)])
    }

    func noRows() -> StepOutcome {
        .init(empty, "no rows in \(subject): the job has never run (or wrote nowhere)", details: ["rows": .int(0)])
    }

    static func number(_ value: Double) -> String { value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value) }
}
