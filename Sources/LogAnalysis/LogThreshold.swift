import Foundation

/// A rule like `error_rate>1%:warn` or `p95>2000:fail` that turns an answer into a verdict.
public struct LogThreshold: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Comparison: String, Sendable, Codable, CaseIterable {
        case greaterOrEqual = ">=", lessOrEqual = "<=", notEqual = "!=", greater = ">", less = "<", equal = "=="
    }

    /// Metric name understood by `LogReport.metric(_:)`.
    public var metric: String
    public var comparison: Comparison
    /// In the metric's unit: percent for rates, milliseconds for latency.
    public var value: Double
    public var status: LogStatus
    public var text: String

    public var description: String { text }

    /// Parses `metric OP number[%|ms|s|m]:warn|fail` (`crit` is accepted for `fail`; the status defaults to fail).
    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        self.text = trimmed
        var body = Substring(trimmed)
        status = .fail
        if let colon = trimmed.lastIndex(of: ":") {
            switch trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces).lowercased() {
            case "warn", "warning": status = .warn
            case "fail", "crit", "critical", "error": status = .fail
            default: throw LogAnalysisError("threshold '\(trimmed)': status must be warn or fail")
            }
            body = trimmed[..<colon]
        }
        // The earliest operator wins; at the same place the longer one (`>=` before `>`).
        var found: (Comparison, Range<Substring.Index>)?
        for c in Comparison.allCases {
            guard let r = body.range(of: c.rawValue) else { continue }
            if let f = found, f.1.lowerBound <= r.lowerBound { continue }
            found = (c, r)
        }
        guard let op = found else {
            throw LogAnalysisError("threshold '\(trimmed)': expected METRIC>VALUE:STATUS, e.g. error_rate>1%:warn")
        }
        comparison = op.0
        metric = body[..<op.1.lowerBound].trimmingCharacters(in: .whitespaces).lowercased()
        var number = body[op.1.upperBound...].trimmingCharacters(in: .whitespaces).lowercased()
        var factor = 1.0
        for (suffix, f) in [("%", 1.0), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)] where number.hasSuffix(suffix) {
            number.removeLast(suffix.count)
            factor = f
            break
        }
        guard !metric.isEmpty, let v = Double(number.trimmingCharacters(in: .whitespaces)) else {
            let given = String(body[op.1.upperBound...])
            throw LogAnalysisError("threshold '\(trimmed)': '\(given)' is not a number")
        }
        value = v * factor
        guard LogReport.knownMetrics.contains(metric) || LogLevel(word: metric) != nil || LogBaseline.split(metric) != nil else {
            throw LogAnalysisError("threshold '\(trimmed)': unknown metric '\(metric)' (known: \(LogReport.knownMetrics.joined(separator: ", ")))")
        }
    }

    func breached(by v: Double) -> Bool {
        switch comparison {
        case .greater: return v > value
        case .greaterOrEqual: return v >= value
        case .less: return v < value
        case .lessOrEqual: return v <= value
        case .equal: return v == value
        case .notEqual: return v != value
        }
    }

    /// Evaluates the rule on a report.
    public func evaluate(_ report: LogReport) -> ThresholdOutcome {
        guard let v = report.metric(metric) else {
            return ThresholdOutcome(threshold: text, metric: metric, value: nil, breached: false, status: .ok,
                                    note: "not measured (no \(metric == "p50" || metric.hasPrefix("p9") ? "latency field" : "data"))")
        }
        let hit = breached(by: v)
        return ThresholdOutcome(threshold: text, metric: metric, value: v, breached: hit, status: hit ? status : .ok, note: nil)
    }
}

/// One threshold's verdict.
public struct ThresholdOutcome: Sendable, Codable, Equatable {
    public var threshold: String
    public var metric: String
    public var value: Double?
    public var breached: Bool
    public var status: LogStatus
    public var note: String?
}

extension LogReport {
    static let knownMetrics = ["error_rate", "errors", "warnings", "fatal", "lines", "count", "total", "matched",
                               "unparsed", "unparsed_rate", "p50", "p95", "p99", "max_latency", "mean_latency",
                               "markers_fail", "markers_warn"]

    /// Fills `thresholds` and `status` from rules.
    public mutating func apply(_ rules: [LogThreshold]) {
        thresholds = rules.map { relativeOutcome($0, among: rules) ?? $0.evaluate(self) }
        status = thresholds.map(\.status).max() ?? .ok
    }
}
