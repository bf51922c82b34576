import Checks
import Foundation

/// `--format prometheus`: text exposition format for node_exporter's textfile collector
/// (no sample timestamps: the collector rejects them). Status gauges are one-hot over the five
/// statuses so `opsctl_step_status{status="fail"} == 1` is the alert expression.
public struct PrometheusReporter: Reporter {
    public var options: ReporterOptions

    public init(options: ReporterOptions = ReporterOptions()) { self.options = options }

    public func render(_ original: RunReport) -> String {
        let report = original.masked(by: options.masker)
        let base: [(String, String)] = [("runbook", report.runbook), ("environment", report.environment ?? "")]
        var out = Exposition()

        out.family("opsctl_step_status", help: "Status of each step in the last run: 1 for the step's status, 0 for the others.")
        for result in report.results {
            for status in StepStatus.allCases {
                out.sample(labels: stepLabels(base, result) + [("status", status.rawValue)],
                           value: result.status == status ? 1 : 0)
            }
        }
        out.family("opsctl_step_duration_seconds", help: "Wall-clock duration of each step in the last run, in seconds.")
        for result in report.results {
            out.sample(labels: stepLabels(base, result), value: result.durationMs / 1000)
        }
        out.family("opsctl_step_attempts", help: "Attempts each step of the last run took (retries plus one).")
        for result in report.results {
            out.sample(labels: stepLabels(base, result), value: Double(result.attempts))
        }
        out.family("opsctl_step_metric", help: "Values measured by the steps of the last run (see the unit label).")
        for result in report.results {
            for metric in result.metrics {
                out.sample(labels: base + [("step", result.id), ("metric", metric.name), ("unit", metric.unit ?? "")],
                           value: metric.value)
            }
        }
        out.family("opsctl_run_status", help: "Overall status of the last run: 1 for its status, 0 for the others.")
        for status in StepStatus.allCases {
            out.sample(labels: base + [("status", status.rawValue)], value: report.status == status ? 1 : 0)
        }
        out.family("opsctl_run_aborted", help: "1 when the last run stopped before every step finished.")
        out.sample(labels: base, value: report.aborted == nil ? 0 : 1)
        out.family("opsctl_run_duration_seconds", help: "Wall-clock duration of the last run, in seconds.")
        out.sample(labels: base, value: report.durationMs / 1000)
        out.family("opsctl_run_timestamp_seconds", help: "Unix time the last run started.")
        out.sample(labels: base, value: report.startedAt.timeIntervalSince1970)
        return out.text
    }

    private func stepLabels(_ base: [(String, String)], _ result: StepResult) -> [(String, String)] {
        base + [("step", result.id), ("kind", result.kind)]
    }
}

/// Builds exposition text: HELP/TYPE per family, escaped label values, no duplicate series.
private struct Exposition {
    private(set) var text = ""
    private var name = ""
    private var seen = Set<String>()

    mutating func family(_ name: String, help: String) {
        self.name = name
        text += "# HELP \(name) \(help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n"))\n"
        text += "# TYPE \(name) gauge\n"
    }

    mutating func sample(labels: [(String, String)], value: Double) {
        let rendered = labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",")
        let series = "\(name){\(rendered)}"
        // Two metrics with the same name in one step would be a duplicate series: keep the first.
        guard seen.insert(series).inserted else { return }
        text += "\(series) \(Self.number(value))\n"
    }

    /// Label values: backslash, double quote and line feed are the only escapes the format has;
    /// other controls are replaced so a shell step's output cannot produce odd bytes.
    static func escape(_ value: String) -> String {
        var out = ""
        for scalar in ReportText.stripANSI(value).unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default:
                if ReportText.isControl(scalar) { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
