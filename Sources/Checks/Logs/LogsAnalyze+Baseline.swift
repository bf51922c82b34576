import Foundation
import LogAnalysis
import Support

/// `baseline:` of logs.analyze and the change against it in the step's metrics and message.
extension LogsAnalyze {
    func baselineSpec(_ context: StepContext) throws -> LogBaselineSpec? {
        guard let baseline else { return nil }
        switch LogBaselineSpec(baseline) {
        case .window: return LogBaselineSpec(baseline)
        case .files:
            return .files(try Self.expand([Self.resolve(baseline, from: context.baseDirectory)]))
        }
    }

    /// `<metric>_baseline` and `<metric>_change_pct` for the metrics a human reads first, with the limits
    /// of the `_increase_pct` rules (the one rule: fires at value >= limit).
    static func baselineMetrics(_ baseline: LogBaseline, thresholds: [LogThreshold]) -> [Metric] {
        func limit(_ metric: String, _ status: LogStatus) -> Double? {
            thresholds.filter { $0.metric == metric && $0.status == status && [.greater, .greaterOrEqual].contains($0.comparison) }
                .map(\.value).min()
        }
        var out: [Metric] = []
        for (name, unit) in [("error_rate", "%"), ("errors", "count"), ("p95", "ms"), ("p99", "ms")] {
            guard let c = baseline.comparisons[name] else { continue }
            out.append(Metric(name: name + "_baseline", value: c.baseline, unit: unit, min: 0))
            out.append(Metric(name: name + "_delta", value: c.delta, unit: unit,
                              warn: limit(name + "_increase_abs", .warn), crit: limit(name + "_increase_abs", .fail)))
            if let pct = c.changePct {
                out.append(Metric(name: name + "_change_pct", value: pct, unit: "%",
                                  warn: limit(name + "_increase_pct", .warn), crit: limit(name + "_increase_pct", .fail)))
            }
        }
        return out
    }

    /// `vs previous 1h: error rate 4 % vs 2 % (+2, +100%)`.
    public static func baselineSummary(_ baseline: LogBaseline) -> String {
        var parts: [String] = []
        for (name, label, unit) in [("error_rate", "error rate", " %"), ("errors", "errors", ""), ("p95", "p95", " ms")] {
            guard let c = baseline.comparisons[name] else { continue }
            let pct = c.changePct.map { ($0 >= 0 ? "+" : "−") + number(abs($0)) + "%" } ?? "new"
            parts.append("\(label) \(number(c.current))\(unit) vs \(number(c.baseline))\(unit) (\(c.delta >= 0 ? "+" : "−")\(number(abs(c.delta))), \(pct))")
        }
        return "vs \(baseline.source): " + (parts.isEmpty ? "no comparable metrics" : parts.joined(separator: ", "))
    }

    static func number(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
        var text = String(format: "%.2f", v)
        while text.hasSuffix("0") { text.removeLast() }
        return text.hasSuffix(".") ? String(text.dropLast()) : text
    }
}
