import Checks
import Foundation

/// `--format tap`: TAP version 13 (14 with `--tap-version 14`), one test point per step.
///
/// ok/warn pass (`# warn` is a plain comment, not a TODO, so a harness still counts it as a pass),
/// fail/error are `not ok`, skipped is `# SKIP reason`. Non-passing steps (and every step with
/// `verbose`) carry a YAML diagnostic block. An aborted run ends with `Bail out!`.
public struct TAPReporter: Reporter {
    public var options: ReporterOptions

    public init(options: ReporterOptions = ReporterOptions()) { self.options = options }

    public func render(_ original: RunReport) -> String {
        let report = original.masked(by: options.masker)
        var lines = ["TAP version \(options.tapVersion)", "1..\(report.results.count)"]
        var header = "# opsctl \(report.runbook)"
        if let environment = report.environment { header += " env \(environment)" }
        header += " run \(report.runID)"
        if report.dryRun { header += " (dry run)" }
        lines.append(Self.comment(header))
        for (index, result) in report.results.enumerated() {
            lines.append(testPoint(result, number: index + 1))
            if options.verbose || !(result.status == .ok || result.status == .skipped) {
                lines.append(contentsOf: diagnostics(result))
            }
        }
        lines.append(Self.comment("# \(summary(report))"))
        if let reason = report.aborted {
            lines.append("Bail out! " + Self.escape(reason))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func testPoint(_ result: StepResult, number: Int) -> String {
        let passed = !result.status.isFailure
        var line = (passed ? "ok" : "not ok") + " \(number) - " + Self.escape(result.id)
        if !result.message.isEmpty { line += ": " + Self.escape(result.message) }
        switch result.status {
        case .skipped:
            var reason = result.message.isEmpty ? "skipped" : result.message
            if let blockers = result.blockedBy, !blockers.isEmpty {
                reason = "blocked by " + blockers.joined(separator: ", ")
            }
            // The directive ends the description; its reason is escaped the same way.
            line = "ok \(number) - " + Self.escape(result.id) + " # SKIP " + Self.escape(reason)
        case .warn:
            line += " # warn"
        case .ok where result.attempts > 1:
            line += " # passed after \(result.attempts) attempts"
        default:
            break
        }
        return line
    }

    /// The YAML block: quoted scalars only, so no value can end the block or start a TAP line.
    private func diagnostics(_ result: StepResult) -> [String] {
        var yaml = ["  ---"]
        yaml.append("  status: \(result.status.rawValue)")
        yaml.append("  message: \(ReportText.quoted(result.message))")
        yaml.append("  kind: \(ReportText.quoted(result.kind))")
        if !result.title.isEmpty, result.title != result.id { yaml.append("  title: \(ReportText.quoted(result.title))") }
        yaml.append("  duration_ms: \(ReportText.decimal(result.durationMs))")
        yaml.append("  attempts: \(result.attempts)")
        if let remediation = result.remediation, result.status != .ok {
            yaml.append("  remediation: \(ReportText.quoted(remediation))")
        }
        // Block style only: TAP::Parser's YAMLish reader (prove) knows no flow collections.
        if let blockers = result.blockedBy, !blockers.isEmpty {
            yaml.append("  blocked_by:")
            yaml.append(contentsOf: blockers.map { "    - " + ReportText.quoted($0) })
        }
        if !result.metrics.isEmpty {
            yaml.append("  metrics:")
            for metric in result.metrics {
                yaml.append("    - name: \(ReportText.quoted(metric.name))")
                yaml.append("      value: \(Self.yamlNumber(metric.value))")
                if let unit = metric.unit { yaml.append("      unit: \(ReportText.quoted(unit))") }
                if let warn = metric.warn { yaml.append("      warn: \(Self.yamlNumber(warn))") }
                if let crit = metric.crit { yaml.append("      crit: \(Self.yamlNumber(crit))") }
            }
        }
        yaml.append("  ...")
        return yaml
    }

    private func summary(_ report: RunReport) -> String {
        let counts = StepStatus.allCases.map { "\(report.count($0)) \($0.rawValue)" }.joined(separator: ", ")
        return "\(report.status.rawValue): \(counts) in \(ReportText.seconds(fromMilliseconds: report.durationMs))s"
    }

    private static func yamlNumber(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? ".nan" : (value > 0 ? ".inf" : "-.inf") }
        return ReportText.decimal(value)
    }

    /// A description or reason per TAP 14: `\` as `\\`, `#` as `\#`, and one ASCII-clean line
    /// (a line break becomes the two characters `\n`, other controls are dropped), so no
    /// message can end the test line, start a directive or inject a test point.
    static func escape(_ text: String) -> String {
        var out = ""
        var previous: Unicode.Scalar = " "
        for scalar in ReportText.stripANSI(text).unicodeScalars {
            defer { previous = scalar }
            switch scalar {
            case "\\": out += "\\\\"
            case "#": out += "\\#"
            case "\n" where previous == "\r": continue
            case "\n", "\r", "\u{2028}", "\u{2029}", "\u{85}": out += "\\n"
            case "\t": out += " "
            default:
                if !ReportText.isControl(scalar) { out.unicodeScalars.append(scalar) }
            }
        }
        return out.trimmingCharacters(in: .whitespaces)
    }

    /// A comment line (already starting with `#`), kept to one line.
    private static func comment(_ text: String) -> String {
        ReportText.oneLine(text)
    }
}
