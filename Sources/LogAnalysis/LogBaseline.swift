import Foundation
import Support

/// What `logs analyze --baseline` compares with: another log file (yesterday's), or the window of
/// the same length just before the current one in the same files.
public enum LogBaselineSpec: Sendable, Equatable {
    case files([String])
    /// Seconds: the current window is the last N (unless --since/--from say otherwise), the baseline the N before it.
    case window(Double)

    /// A duration (`1h`, `15m`) is a window unless a file of that name exists; anything else is a file.
    public init(_ text: String) {
        if let seconds = Self.duration(text), seconds > 0, !FileManager.default.fileExists(atPath: text) {
            self = .window(seconds)
        } else {
            self = .files([text])
        }
    }

    static func duration(_ text: String) -> Double? { DurationText.seconds(text) }
}

/// The baseline's answers beside the report's: what relative thresholds
/// (`error_rate_increase_pct>=50:fail`, `errors_increase_abs>=10:warn`, `p95_increase_pct>=20:warn`) compare with.
public struct LogBaseline: Sendable, Codable, Equatable {
    /// `file yesterday.log` or `previous 1h (… to …)`.
    public var source: String
    public var from: Date?
    public var to: Date?
    /// Baseline value of every measured metric (`error_rate`, `errors`, `p95`, …).
    public var values: [String: Double]
    /// Per metric with a baseline: current, baseline, delta and change_pct (null when the baseline is 0).
    public var comparisons: [String: Comparison]

    public struct Comparison: Sendable, Codable, Equatable {
        public var current: Double
        public var baseline: Double
        public var delta: Double
        public var changePct: Double?
    }

    /// The relative forms a threshold may name: `<metric>_increase_pct` and so on.
    public static let suffixes = ["_increase_pct", "_increase_abs", "_decrease_pct", "_decrease_abs", "_baseline"]

    /// `error_rate_increase_pct` -> (`error_rate`, `_increase_pct`) when the base metric is known.
    public static func split(_ name: String) -> (metric: String, suffix: String)? {
        for suffix in suffixes where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if LogReport.knownMetrics.contains(base) || LogLevel(word: base) != nil { return (base, suffix) }
        }
        return nil
    }

    /// 9 decimals: float noise (2.4 − 2 = 0.3999999999999999) must not move a value across a limit.
    static func decimal(_ v: Double) -> Double { (v * 1e9).rounded() / 1e9 }

    init(source: String, from: Date?, to: Date?, baseline: LogReport, current: LogReport) {
        self.source = source
        self.from = from
        self.to = to
        var values: [String: Double] = [:]
        var comparisons: [String: Comparison] = [:]
        for name in LogReport.knownMetrics {
            guard let b = baseline.metric(name) else { continue }
            values[name] = b
            guard let c = current.metric(name) else { continue }
            let pct: Double? = b == 0 ? (c == 0 ? 0 : nil) : Self.decimal((c - b) * 100 / abs(b))
            comparisons[name] = Comparison(current: c, baseline: b, delta: Self.decimal(c - b), changePct: pct)
        }
        self.values = values
        self.comparisons = comparisons
    }
}

extension LogAnalyzer {
    /// Analyses `paths` and, with a baseline, the baseline too; thresholds are judged with both.
    public func analyze(paths: [String], baseline: LogBaselineSpec?) throws -> LogReport {
        guard let baseline else { return try analyze(paths: paths) }
        var current = options
        var baselineOptions = options
        baselineOptions.thresholds = []
        let source: String
        switch baseline {
        case let .files(files):
            source = "file " + files.joined(separator: ", ")
        case let .window(seconds):
            guard !paths.isEmpty, !paths.contains("-") else {
                throw LogAnalysisError("--baseline \(Int(seconds))s reads the logs twice: give files, not standard input (or --baseline FILE)")
            }
            // Without --since/--from the current window is the last `seconds`; the baseline is the same length before it.
            if current.timeRange.from == nil { current.since = seconds }
            let startMs = current.timeRange.from ?? 0
            let start = Date(timeIntervalSince1970: Double(startMs) / 1000)
            baselineOptions.since = nil
            baselineOptions.from = start.addingTimeInterval(-seconds)
            baselineOptions.to = start
            source = "previous \(DurationText.window(seconds: seconds)) (\(LogTime.iso(start.addingTimeInterval(-seconds))) to \(LogTime.iso(start)))"
        }
        var report = try LogAnalyzer(current).analyze(paths: paths)
        let files: [String] = if case let .files(f) = baseline { f } else { paths }
        let base = try LogAnalyzer(baselineOptions).analyze(paths: files)
        report.baseline = LogBaseline(source: source, from: baselineOptions.from, to: baselineOptions.to, baseline: base, current: report)
        report.apply(options.thresholds)
        return report
    }
}

extension LogReport {
    /// The verdict of a relative rule (`error_rate_increase_pct>=50:fail`); nil for an absolute one.
    /// Without a baseline, or with a baseline of 0 where a percentage is undefined, the rule warns —
    /// unless an `_abs` rule on the same metric and direction is there to decide.
    func relativeOutcome(_ rule: LogThreshold, among rules: [LogThreshold]) -> ThresholdOutcome? {
        guard let (metric, suffix) = LogBaseline.split(rule.metric) else { return nil }
        func outcome(_ value: Double?, note: String?, status: LogStatus? = nil) -> ThresholdOutcome {
            let hit = value.map(rule.breached(by:)) ?? false
            return ThresholdOutcome(threshold: rule.text, metric: rule.metric, value: value, breached: hit,
                                    status: status ?? (hit ? rule.status : .ok), note: note)
        }
        guard let baseline else { return outcome(nil, note: "no baseline: pass --baseline FILE or DURATION", status: .warn) }
        if suffix == "_baseline" { return outcome(baseline.values[metric], note: nil) }
        guard let c = baseline.comparisons[metric] else {
            if self.metric(metric) == nil { return outcome(nil, note: "not measured (no \(metric) in this window)") }
            return outcome(nil, note: "no baseline value of \(metric) (\(baseline.source))", status: .warn)
        }
        switch suffix {
        case "_increase_abs": return outcome(c.delta, note: nil)
        case "_decrease_abs": return outcome(-c.delta, note: nil)
        default:
            guard let pct = c.changePct else {
                let absolute = metric + suffix.replacingOccurrences(of: "_pct", with: "_abs")
                if rules.contains(where: { $0.metric == absolute }) {
                    return outcome(nil, note: "baseline is 0: % change undefined, \(absolute) decides")
                }
                return outcome(nil, note: "baseline is 0: % change undefined (add \(absolute))", status: .warn)
            }
            return outcome(suffix == "_increase_pct" ? pct : -pct, note: nil)
        }
    }
}
