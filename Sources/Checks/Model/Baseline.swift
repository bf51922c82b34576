import Foundation
import Support

/// What a metric is compared with: "no increase in error rates after the deploy" needs a before.
public enum BaselineSource: Sendable, Equatable, CustomStringConvertible {
    /// `previous`: the same query over the window just before the current one.
    case previousWindow
    /// `24h-ago` (any duration): the current window shifted back by that many seconds.
    case shifted(Double)
    /// `run:<id>`: the value the same step recorded in that journaled run.
    case run(String)
    /// `last-ok`: the value the same step recorded in the last ok run of this runbook and environment.
    case lastOK
    /// `--baseline-env NAME`: the same query, same window, against that environment's database.
    case environment(String)

    /// Parses `previous`, `<duration>-ago`, `run:<id>` or `last-ok`; nil with a reason otherwise.
    public static func parse(_ text: String) -> Result<BaselineSource, StepError> {
        let t = text.trimmingCharacters(in: .whitespaces)
        switch t.lowercased() {
        case "previous": return .success(.previousWindow)
        case "last-ok", "last_ok": return .success(.lastOK)
        default: break
        }
        if t.hasPrefix("run:"), t.count > 4 { return .success(.run(String(t.dropFirst(4)))) }
        if t.lowercased().hasSuffix("-ago"), let seconds = DurationText.seconds(String(t.dropLast(4))), seconds > 0 {
            return .success(.shifted(seconds))
        }
        return .failure(StepError("baseline '\(text)' is not previous, <duration>-ago (e.g. 24h-ago), run:<id> or last-ok"))
    }

    /// Whether this baseline re-runs the query over another window (needs `window:`).
    public var needsWindow: Bool {
        switch self {
        case .previousWindow, .shifted: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .previousWindow: return "previous"
        case let .shifted(s): return DurationText.window(seconds: s) + "-ago"
        case let .run(id): return "run:\(id)"
        case .lastOK: return "last-ok"
        case let .environment(name): return "env:\(name)"
        }
    }
}

/// A journaled run a baseline reads values from (`run:<id>`, `last-ok`).
public struct RecordedRun: Sendable {
    public var runID: String
    public var results: [StepResult]

    public init(runID: String, results: [StepResult]) {
        self.runID = runID
        self.results = results
    }

    /// The value step `stepID` recorded for `metric`: its own result, or (for a step of an included
    /// runbook) the including step's metric `<stepID>.<metric>`.
    public func value(step stepID: String, metric: String) -> Double? {
        if let own = results.first(where: { $0.id == stepID })?.metrics.first(where: { $0.name == metric }) { return own.value }
        let qualified = "\(stepID).\(metric)"
        for result in results {
            if let m = result.metrics.first(where: { $0.name == qualified }) { return m.value }
        }
        return nil
    }
}

/// Limits on how far a value moved from its baseline, each `{warn, crit}` read with the one threshold
/// rule (a limit fires when the change reaches it). Decreases are written as positive numbers:
/// `decrease_pct: {crit: 50}` fails when the value fell by half or more.
public struct RelativeThresholds: Sendable, Equatable {
    public var increasePct: Thresholds?
    public var increaseAbs: Thresholds?
    public var decreasePct: Thresholds?
    public var decreaseAbs: Thresholds?

    public static let keys = ["increase_pct", "increase_abs", "decrease_pct", "decrease_abs"]

    public init(increasePct: Thresholds? = nil, increaseAbs: Thresholds? = nil, decreasePct: Thresholds? = nil,
                decreaseAbs: Thresholds? = nil) {
        self.increasePct = increasePct
        self.increaseAbs = increaseAbs
        self.decreasePct = decreasePct
        self.decreaseAbs = decreaseAbs
    }

    /// The relative keys of one column's threshold mapping (`where` names it in errors).
    public init(_ spec: [String: JSONValue], where place: String) throws {
        func read(_ key: String) throws -> Thresholds? {
            guard let value = spec[key], !value.isNull else { return nil }
            guard let o = value.object, o.keys.allSatisfy({ $0 == "warn" || $0 == "crit" }),
                  o["warn"].map({ $0.double != nil }) ?? true, o["crit"].map({ $0.double != nil }) ?? true,
                  o["warn"] != nil || o["crit"] != nil else {
                throw StepError("\(place).\(key) must be a mapping like { warn: 20, crit: 50 }, got \(value.jsonText)")
            }
            return Thresholds(warn: o["warn"]?.double, crit: o["crit"]?.double)
        }
        increasePct = try read("increase_pct")
        increaseAbs = try read("increase_abs")
        decreasePct = try read("decrease_pct")
        decreaseAbs = try read("decrease_abs")
    }

    public var isEmpty: Bool { increasePct == nil && increaseAbs == nil && decreasePct == nil && decreaseAbs == nil }
}

/// A current value beside its baseline: delta, % change and the verdict of relative limits.
public struct BaselineComparison: Sendable, Equatable {
    public var current: Double
    public var baseline: Double

    public init(current: Double, baseline: Double) {
        self.current = current
        self.baseline = baseline
    }

    /// Rounded to 9 decimals: 2.4 − 2 is 0.3999999999999999 in binary floating point, and a limit of
    /// 0.4 must fire on it exactly as on the decimal value the operator wrote.
    public var delta: Double { Self.decimal(current - baseline) }

    static func decimal(_ v: Double) -> Double { (v * 1e9).rounded() / 1e9 }

    /// Change in percent of the baseline; 0 when both are 0; nil when the baseline is 0 and the value
    /// is not (a change from nothing has no percentage).
    public var changePct: Double? {
        if baseline == 0 { return current == 0 ? 0 : nil }
        return Self.decimal((current - baseline) * 100 / abs(baseline))
    }

    /// The worst status of the limits and, for each that fired or could not be judged, why.
    public func evaluate(_ limits: RelativeThresholds) -> (status: StepStatus, findings: [String]) {
        var status = StepStatus.ok
        var findings: [String] = []
        func judge(_ name: String, _ thresholds: Thresholds?, _ value: Double?, absolute: Thresholds?) {
            guard let thresholds else { return }
            guard let value else {
                // Baseline 0: the absolute limit of the same direction decides; without one, say so.
                if absolute == nil {
                    status = StepStatus.worst([status, .warn])
                    findings.append("baseline is 0: \(name) is undefined (add \(name.replacingOccurrences(of: "_pct", with: "_abs")))")
                }
                return
            }
            let s = thresholds.status(for: value)
            guard s != .ok else { return }
            status = StepStatus.worst([status, s])
            let limit = s == .fail ? thresholds.crit : thresholds.warn
            findings.append("\(name) \(Self.number(value)) ≥ \(s == .fail ? "crit" : "warn") \(Self.number(limit ?? 0))")
        }
        judge("increase_pct", limits.increasePct, changePct, absolute: limits.increaseAbs)
        judge("increase_abs", limits.increaseAbs, delta, absolute: nil)
        judge("decrease_pct", limits.decreasePct, changePct.map { -$0 }, absolute: limits.decreaseAbs)
        judge("decrease_abs", limits.decreaseAbs, -delta, absolute: nil)
        return (status, findings)
    }

    /// `4 vs 2 (+2, +100%)`: what a person reads to see why the step fired.
    public var summary: String {
        let sign = delta >= 0 ? "+" : "−"
        let pct = changePct.map { ($0 >= 0 ? "+" : "−") + Self.number(abs($0)) + "%" } ?? "new"
        return "\(Self.number(current)) vs \(Self.number(baseline)) (\(sign)\(Self.number(abs(delta))), \(pct))"
    }

    /// The comparison as details: current, baseline, delta, change_pct (null when undefined).
    public var json: JSONValue {
        .object(["current": .double(current), "baseline": .double(baseline), "delta": .double(delta),
                 "change_pct": changePct.map(JSONValue.double) ?? .null])
    }

    /// Metrics beside the column's own: `<name>_baseline`, `<name>_delta` (with the increase_abs limits)
    /// and `<name>_change_pct` (with the increase_pct limits), so Prometheus and Nagios see the change.
    public func metrics(_ name: String, unit: String?, limits: RelativeThresholds) -> [Metric] {
        var out = [Metric(name: name + "_baseline", value: baseline, unit: unit),
                   Metric(name: name + "_delta", value: delta, unit: unit, warn: limits.increaseAbs?.warn, crit: limits.increaseAbs?.crit)]
        if let pct = changePct {
            out.append(Metric(name: name + "_change_pct", value: pct, unit: "%", warn: limits.increasePct?.warn, crit: limits.increasePct?.crit))
        }
        return out
    }

    static func number(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
        var text = String(format: "%.2f", v)
        while text.hasSuffix("0") { text.removeLast() }
        return text.hasSuffix(".") ? String(text.dropLast()) : text
    }
}
