import Checks
import Foundation
import Support

/// The Nagios plugin state of a run.
///
/// CRITICAL if any step failed, else UNKNOWN if any step errored (could not be evaluated) or the
/// run was aborted, else WARNING if any step warned, else OK (ok and skipped steps are OK).
/// A definite failure outranks "could not tell": the pager must say CRITICAL when something is known broken.
public enum NagiosState: Int32, Sendable {
    case ok = 0, warning = 1, critical = 2, unknown = 3

    public init(_ report: RunReport) {
        if report.results.contains(where: { $0.status == .fail }) { self = .critical }
        else if report.aborted != nil || report.results.contains(where: { $0.status == .error }) { self = .unknown }
        else if report.results.contains(where: { $0.status == .warn }) { self = .warning }
        else { self = .ok }
    }

    public var word: String {
        switch self {
        case .ok: return "OK"
        case .warning: return "WARNING"
        case .critical: return "CRITICAL"
        case .unknown: return "UNKNOWN"
        }
    }
}

/// The Nagios plugin exit code for a run: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
public func nagiosExitCode(for report: RunReport) -> Int32 {
    NagiosState(report).rawValue
}

/// `--format nagios`: `OPSCTL <STATE> - <summary> | perfdata` then one long-text line per
/// non-ok step, per the Nagios plugin development guidelines.
public struct NagiosReporter: Reporter {
    public var options: ReporterOptions

    public init(options: ReporterOptions = ReporterOptions()) { self.options = options }

    public func render(_ original: RunReport) -> String {
        let report = original.masked(by: options.masker)
        let state = NagiosState(report)
        var first = "OPSCTL \(state.word) - \(Self.text(summary(report)))"
        let perf = perfdata(report)
        if !perf.isEmpty { first += " | " + perf.joined(separator: " ") }
        var lines = [first]
        for result in report.results where result.status != .ok {
            var line = "[\(Self.word(result.status))] \(result.id): \(result.message)"
            if let blockers = result.blockedBy, !blockers.isEmpty {
                line += " (blocked by \(blockers.joined(separator: ", ")))"
            }
            if result.attempts > 1 { line += " (after \(result.attempts) attempts)" }
            if let remediation = result.remediation, result.status != .skipped { line += " -> " + remediation }
            lines.append(Self.text(line))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `verify@production: 1 fail (migrations), 1 error (health), ...; 3 ok, 1 skipped in 9.1s`.
    private func summary(_ report: RunReport) -> String {
        var text = report.runbook + (report.environment.map { "@" + $0 } ?? "")
        if report.dryRun { text += " (dry run)" }
        let problems: [String] = [StepStatus.fail, .error, .warn].compactMap { status in
            let ids = report.results.filter { $0.status == status }.map(\.id)
            guard !ids.isEmpty else { return nil }
            let shown = ids.prefix(3).joined(separator: ", ") + (ids.count > 3 ? ", +\(ids.count - 3) more" : "")
            return "\(ids.count) \(status.rawValue) (\(shown))"
        }
        var rest: [String] = []
        if report.count(.ok) > 0 || problems.isEmpty { rest.append("\(report.count(.ok)) ok") }
        if report.count(.skipped) > 0 { rest.append("\(report.count(.skipped)) skipped") }
        text += ": " + (problems + rest).joined(separator: ", ")
        text += " in " + DurationText.format(milliseconds: report.durationMs)
        if let reason = report.aborted { text += "; ABORTED: " + reason }
        return text
    }

    private func perfdata(_ report: RunReport) -> [String] {
        var seen = Set<String>()
        var items: [String] = []
        for result in report.results {
            for metric in result.metrics {
                let label = Self.label(result.id + "_" + metric.name)
                guard seen.insert(label).inserted else { continue }
                let (uom, scale) = Self.unit(metric.unit)
                let number = metric.value.isFinite ? ReportText.decimal(metric.value * scale) : "U"
                let fields = [metric.warn, metric.crit, metric.min, metric.max].map { limit -> String in
                    guard let limit, limit.isFinite else { return "" }
                    return ReportText.decimal(limit * scale)
                }
                items.append("\(label)=\(number)\(metric.value.isFinite ? uom : "");" + fields.joined(separator: ";"))
            }
        }
        let total = Self.label("duration")
        if !seen.contains(total) {
            items.append("\(total)=\(ReportText.decimal((report.durationMs).rounded() / 1000))s;;;0;")
        }
        return items
    }

    /// A quoted perfdata label: `=` is not allowed, a single quote is written as two.
    static func label(_ raw: String) -> String {
        let clean = ReportText.oneLine(raw)
            .replacingOccurrences(of: "=", with: "_")
            .replacingOccurrences(of: "|", with: "_")
            .replacingOccurrences(of: "'", with: "''")
        return "'" + clean + "'"
    }

    /// Maps a model unit to a Nagios UOM (s, ms, us, %, B, KB, MB, TB, c) and a scale factor;
    /// anything else (count, days, rows) is a plain number.
    static func unit(_ unit: String?) -> (uom: String, scale: Double) {
        guard let unit else { return ("", 1) }
        switch unit.trimmingCharacters(in: .whitespaces) {
        case "s", "sec", "secs", "second", "seconds": return ("s", 1)
        case "ms", "millisecond", "milliseconds": return ("ms", 1)
        case "us", "µs", "microsecond", "microseconds": return ("us", 1)
        case "min", "mins", "minute", "minutes": return ("s", 60)
        case "h", "hour", "hours": return ("s", 3600)
        case "%", "percent", "pct": return ("%", 1)
        case "B", "b", "byte", "bytes": return ("B", 1)
        case "KB", "kB", "KiB", "kb": return ("KB", 1)
        case "MB", "MiB", "mb": return ("MB", 1)
        case "GB", "GiB", "gb": return ("MB", 1024)
        case "TB", "TiB", "tb": return ("TB", 1)
        case "c", "counter": return ("c", 1)
        default: return ("", 1)
        }
    }

    private static func word(_ status: StepStatus) -> String {
        switch status {
        case .ok: return "OK"
        case .warn: return "WARNING"
        case .fail: return "CRITICAL"
        case .error: return "UNKNOWN"
        case .skipped: return "SKIPPED"
        }
    }

    /// Plugin text: one line, and no `|` (which would start perfdata).
    static func text(_ raw: String) -> String {
        ReportText.oneLine(raw).replacingOccurrences(of: "|", with: "/")
    }
}
