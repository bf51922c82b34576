import Foundation
import Postgres
import Support

/// Windowed queries and baselines: the same SQL runs for the current window and for the baseline
/// (the window before, the window a day ago, another environment's database), or the current value
/// is set beside the one a journaled run recorded. Relative limits judge the change.
extension SQLQuery {
    /// `${window.start}` / `${window.end}` reach the kind as these bound values (the engine binds the
    /// reference, never its text); each run of the query replaces them with that window's bounds.
    static let windowStart = "${window.start}"
    static let windowEnd = "${window.end}"

    typealias Bounds = (start: String, end: String)

    static func baselineSettings(_ p: StepParameters, sql: String, params: [String], relative: Bool) throws
        -> (window: Double?, baseline: BaselineSource?, missing: StepStatus) {
        let id = p.stepID
        var window: Double?
        if let text = try p.optionalString("window") {
            guard let seconds = windowSeconds(text), seconds > 0 else {
                throw StepError("step '\(id)': window '\(text)' is not a duration like 15m, 1h or '15 minutes'")
            }
            window = seconds
        }
        let usesWindow = params.contains(windowStart) || params.contains(windowEnd)
        if window != nil && !usesWindow {
            throw StepError("step '\(id)': window is set but the SQL uses neither ${window.start} nor ${window.end}")
        }
        if window == nil && usesWindow {
            throw StepError("step '\(id)': the SQL uses ${window.start}/${window.end}: set window: (e.g. window: 15m)")
        }
        var baseline: BaselineSource?
        if let text = try p.optionalString("baseline") {
            switch BaselineSource.parse(text) {
            case let .success(source): baseline = source
            case let .failure(error): throw StepError("step '\(id)': \(error.message)")
            }
            if baseline?.needsWindow == true && window == nil {
                throw StepError("step '\(id)': baseline: \(text) runs the query over another window: set window: and use ${window.start}/${window.end} in the SQL")
            }
        }
        if relative && baseline == nil {
            throw StepError("step '\(id)': increase/decrease thresholds need a baseline: previous, 24h-ago, last-ok or run:<id>")
        }
        let missingText = try p.string("baseline_missing", default: "warn")
        guard let missing = StepStatus(rawValue: missingText), [.ok, .warn, .fail].contains(missing) else {
            throw StepError("step '\(id)': baseline_missing must be ok, warn or fail, got '\(missingText)'")
        }
        return (window, baseline, missing)
    }

    /// `15m`, `1h30m`, or Postgres-style `15 minutes` / `24 hours` (the profiles' window param).
    static func windowSeconds(_ text: String) -> Double? {
        if let s = DurationText.seconds(text) { return s }
        let units = ["seconds": "s", "second": "s", "minutes": "m", "minute": "m", "hours": "h", "hour": "h", "days": "d", "day": "d"]
        let words = text.lowercased().split(whereSeparator: \.isWhitespace).map { units[String($0)] ?? String($0) }
        return DurationText.seconds(words.joined())
    }

    /// Parameters for one run of the query: the window markers replaced by that window's bounds.
    func boundParams(_ bounds: Bounds?) -> [String] {
        guard let bounds else { return params }
        return params.map { $0 == Self.windowStart ? bounds.start : $0 == Self.windowEnd ? bounds.end : $0 }
    }

    func runWithBaseline(_ context: StepContext) throws -> StepOutcome {
        // --baseline-env overrides the step's own baseline: canary against stable, same query, same window.
        let source = baseline.map { declared in context.baselineEnvironment.map { .environment($0.name) } ?? declared }
        let shift: Double? = switch source {
        case .previousWindow?: window
        case let .shifted(seconds)?: seconds
        default: nil
        }
        let (current, bounds, shifted, windowed) = try context.readOnlyQuery(variable: variable, statementTimeoutMs: timeoutMs) { db in
            // The database's clock decides the window: rows are stamped by it, not by this host.
            var bounds: Bounds?
            var shifted: Bounds?
            if let window {
                let row = try db.query("""
                    SELECT now()::text AS e, (now() - make_interval(secs => $1::float8))::text AS s,
                           (now() - make_interval(secs => $2::float8))::text AS be,
                           (now() - make_interval(secs => $3::float8))::text AS bs
                    """, [window, shift ?? 0, (shift ?? 0) + window]).first
                bounds = (row?["s"].string ?? "", row?["e"].string ?? "")
                if shift != nil { shifted = (row?["bs"].string ?? "", row?["be"].string ?? "") }
            }
            let current = try db.query(sql, boundParams(bounds))
            // The baseline window in the same READ ONLY transaction: one snapshot for both.
            let windowed = try shifted.map { try db.query(sql, boundParams($0)) }
            return (current, bounds, shifted, windowed)
        }
        var outcome = evaluate(current)
        if let bounds { outcome.details["window"] = .object(["start": .string(bounds.start), "end": .string(bounds.end)]) }
        guard let source else { return outcome }

        var values: [String: Double] = [:]
        var missing: String?
        var info: [String: JSONValue] = ["source": .string(source.description)]
        var label: String
        switch source {
        case .previousWindow, .shifted:
            label = source == .previousWindow ? "previous \(DurationText.window(seconds: window ?? 0))" : "\(source)"
            if let shifted { info["window"] = .object(["start": .string(shifted.start), "end": .string(shifted.end)]) }
            values = Self.columnValues(windowed, columns: thresholds.map(\.column))
            if windowed?.first == nil { missing = "no rows in the baseline window" }
        case let .environment(name):
            label = "env \(name)"
            guard let other = context.baselineEnvironment else { return outcome }
            let result = try context.readOnlyQuery(variable: other.databaseURLVariable, statementTimeoutMs: timeoutMs) { db in
                try db.query(sql, boundParams(bounds))
            }
            values = Self.columnValues(result, columns: thresholds.map(\.column))
            if result.first == nil { missing = "no rows in \(name)" }
        case .run, .lastOK:
            label = source == .lastOK ? "last ok run" : "run \(source.description.dropFirst(4))"
            if let lookup = context.recordedRun {
                if let run = try lookup(source) {
                    label = source == .lastOK ? "last ok run \(run.runID)" : "run \(run.runID)"
                    info["run_id"] = .string(run.runID)
                    for (column, _, _) in thresholds {
                        if let v = run.value(step: stepID, metric: column) { values[column] = v }
                    }
                    if values.isEmpty { missing = "run \(run.runID) recorded no \(stepID) values" }
                } else {
                    missing = source == .lastOK ? "no ok run of this runbook in this environment yet" : "no run \(source.description.dropFirst(4)) in the journal"
                }
            } else {
                missing = "no journal to read recorded runs from"
            }
        }
        info["label"] = .string(label)
        compare(&outcome, values: values, missing: missing, label: label, info: info)
        return outcome
    }

    static func columnValues(_ result: QueryResult?, columns: [String]) -> [String: Double] {
        guard let first = result?.first else { return [:] }
        var out: [String: Double] = [:]
        for column in columns { if let v = first[column].double { out[column] = v } }
        return out
    }

    /// Sets each thresholded column beside its baseline: details, metrics, message and the relative verdict.
    func compare(_ outcome: inout StepOutcome, values: [String: Double], missing: String?, label: String,
                 info: [String: JSONValue]) {
        let current = Dictionary(outcome.metrics.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var info = info
        var columns: [String: JSONValue] = [:]
        var shown: [String] = []
        var findings: [String] = []
        var status = outcome.status
        for (column, _, unit) in thresholds {
            let limits = relative[column] ?? RelativeThresholds()
            guard let now = current[column]?.value else { continue }
            guard let base = values[column] else {
                // Nothing to compare with: the absolute thresholds still hold; relative ones say why not.
                if !limits.isEmpty {
                    status = StepStatus.worst([status, baselineMissing])
                    findings.append("\(column): no baseline (\(missing ?? "\(label) has no \(column)"))")
                }
                continue
            }
            let comparison = BaselineComparison(current: now, baseline: base)
            columns[column] = comparison.json
            outcome.metrics += comparison.metrics(column, unit: unit, limits: limits)
            if !limits.isEmpty || relative.isEmpty { shown.append("\(column) \(comparison.summary)") }
            let verdict = comparison.evaluate(limits)
            status = StepStatus.worst([status, verdict.status])
            findings += verdict.findings.map { "\(column) \($0)" }
        }
        info["columns"] = .object(columns)
        if let missing { info["missing"] = .string(missing) }
        outcome.details["baseline"] = .object(info)
        var text = outcome.message
        if !shown.isEmpty { text += " — vs \(label): " + shown.joined(separator: "; ") }
        if !findings.isEmpty { text += " — " + findings.joined(separator: "; ") }
        outcome.message = text
        outcome.status = status
    }
}
