import Checks
import Foundation
import Support

/// `--format human`: the report an on-call engineer reads at 3 a.m.
///
/// One aligned line per step (symbol, title and id, duration, message), the next action under
/// anything that did not pass, and a verdict line that says what happened in one glance.
/// Symbols carry the meaning on their own, so the output reads the same without colour.
public struct HumanReporter: Reporter {
    public var options: ReporterOptions

    public init(options: ReporterOptions = ReporterOptions()) { self.options = options }

    public func render(_ original: RunReport) -> String {
        let report = original.masked(by: options.masker).sanitizedForTerminal()
        var lines = [header(report), ""]
        let labels = report.results.map(label)
        let width = min(labels.map { $0.plain.count }.max() ?? 0, 64)
        for (result, label) in zip(report.results, labels) {
            lines.append(contentsOf: stepLines(result, label: label, width: width))
        }
        if report.results.isEmpty { lines.append("  (no steps ran)") }
        lines.append("")
        lines.append(contentsOf: footer(report))
        return lines.joined(separator: "\n") + "\n"
    }

    private func header(_ report: RunReport) -> String {
        var parts = [paint("opsctl \(one(report.runbook))", .bold)]
        parts.append("env " + (report.environment.map(one) ?? "(none)"))
        parts.append("run " + one(report.runID))
        parts.append(Self.clock(report.startedAt))
        var line = parts.joined(separator: paint(" · ", .dim))
        if report.dryRun { line += "  " + paint("DRY RUN: nothing was changed", .yellow) }
        return line
    }

    private struct Label { var plain: String; var painted: String }

    /// `Title [id]`, or just `id` when the title adds nothing.
    private func label(_ result: StepResult) -> Label {
        let id = one(result.id), title = one(result.title)
        if title.isEmpty || title == id { return Label(plain: id, painted: id) }
        return Label(plain: "\(title) [\(id)]", painted: "\(title) \(paint("[\(id)]", .dim))")
    }

    private func stepLines(_ result: StepResult, label: Label, width: Int) -> [String] {
        let style = Self.style(result.status)
        let padding = String(repeating: " ", count: max(0, width - label.plain.count))
        let duration = result.status == .skipped && result.durationMs == 0
            ? "" : DurationText.format(milliseconds: result.durationMs)
        var text = Self.clip(one(result.message))
        if result.status == .skipped, let blockers = result.blockedBy, !blockers.isEmpty, !text.hasPrefix("blocked by") {
            let blocked = "blocked by " + blockers.map(one).joined(separator: ", ")
            text = text.isEmpty ? blocked : text + " · " + blocked
        }
        if result.attempts > 1, !text.contains("after \(result.attempts) attempts") {
            let verb = result.status.isFailure ? "still failing" : "passed"
            text += (text.isEmpty ? "" : " · ") + paint("\(verb) after \(result.attempts) attempts", .yellow)
        }
        let padDuration = String(repeating: " ", count: max(0, 7 - duration.count)) + duration
        var lines = ["  \(paint(Self.symbol(result.status), style)) \(label.painted)\(padding) \(paint(padDuration, .dim))  \(result.status == .ok ? text : paint(text, style))"]
        let indent = "      "
        if !result.metrics.isEmpty, options.verbose || result.status == .warn || result.status.isFailure {
            lines.append(indent + paint(result.metrics.map(Self.metric).joined(separator: " · "), .dim))
        }
        lines += findingLines(result).map { indent + $0 }
        // A step that lists things (backup list) gives one line per item: shown, not only in --format json.
        if case let .array(items)? = result.details["listing"] { lines += items.prefix(50).map { indent + one($0.string ?? "") } }
        if options.verbose { lines += logLines(result).map { indent + $0 } }
        if result.status != .ok, result.status != .skipped, let remediation = result.remediation, !remediation.isEmpty {
            lines.append(indent + paint("→ " + one(remediation), .cyan))
        }
        return lines
    }

    /// Every finding of a multi-finding step (migration lint), grouped by file like squawk:
    /// `file:line:col severity rule message → fix`. A CI log shows them all without --format json.
    private func findingLines(_ result: StepResult) -> [String] {
        guard case let .array(items)? = result.details["findings"], !items.isEmpty else { return [] }
        var order: [String] = []
        var byFile: [String: [JSONValue]] = [:]
        for item in items {
            let file = item["file"]?.string ?? "?"
            if byFile[file] == nil { order.append(file) }
            byFile[file, default: []].append(item)
        }
        var lines: [String] = []
        for file in order {
            let sorted = (byFile[file] ?? []).sorted { ($0["line"]?.int ?? 0, $0["column"]?.int ?? 0) < ($1["line"]?.int ?? 0, $1["column"]?.int ?? 0) }
            for f in sorted {
                let severity = f["severity"]?.string ?? ""
                var line = "\(one(file)):\(f["line"]?.int ?? 0):\(f["column"]?.int ?? 0) "
                line += paint(one(severity), severity == "error" ? .red : .yellow) + " " + paint(one(f["rule"]?.string ?? ""), .bold)
                line += " " + one(f["message"]?.string ?? "")
                if let fix = f["alternative"]?.string, !fix.isEmpty { line += paint(" → " + one(fix), .cyan) }
                lines.append(line)
            }
        }
        return lines
    }

    /// `logs.analyze` under --verbose: the top messages (fingerprints) and groups, not only the first one.
    private func logLines(_ result: StepResult, limit: Int = 10) -> [String] {
        var lines: [String] = []
        if case let .array(top)? = result.details["top_fingerprints"], !top.isEmpty {
            lines.append("top messages:")
            for f in top.prefix(limit) {
                lines.append("  \(f["count"]?.int ?? 0)× \(one(f["level"]?.string ?? "")) \(Self.clip(one(f["fingerprint"]?.string ?? ""), limit: 160))")
            }
        }
        if case let .array(groups)? = result.details["groups"], !groups.isEmpty {
            lines.append("by \(one(result.details["group_by"]?.string ?? "group")):")
            for g in groups.prefix(limit) {
                var line = "  \(one(g["value"]?.string ?? "")) \(g["count"]?.int ?? 0) lines, \(g["errors"]?.int ?? 0) errors"
                if let mean = g["mean_latency"]?.double { line += ", mean \(DurationText.format(milliseconds: mean))" }
                lines.append(line)
            }
        }
        return lines
    }

    private func footer(_ report: RunReport) -> [String] {
        let verdict: (String, Style)
        let warnsFail = options.strict && report.count(.warn) > 0
        if report.aborted != nil { verdict = ("ABORTED", .magenta) }
        else if report.results.contains(where: { $0.status.isFailure }) { verdict = ("FAILED", .red) }
        else if warnsFail { verdict = ("FAILED (strict: warnings fail)", .red) }
        else if report.count(.warn) > 0 { verdict = ("PASSED WITH WARNINGS", .yellow) }
        else { verdict = ("PASSED", .green) }

        let counts = StepStatus.allCases.compactMap { status -> String? in
            let n = report.count(status)
            guard n > 0 else { return nil }
            return paint("\(n) \(status.rawValue)", status == .ok || status == .skipped ? .plain : Self.style(status))
        }
        let steps = report.results.count == 1 ? "1 step" : "\(report.results.count) steps"
        var summary = "  " + paint(verdict.0, [verdict.1, .bold]) + "  "
        summary += ([steps] + counts).joined(separator: paint(" · ", .dim))
        summary += " in " + DurationText.format(milliseconds: report.durationMs)
        var lines = [summary]
        let attention = report.results.filter { $0.status.isFailure || (options.strict && $0.status == .warn) }
        if !attention.isEmpty {
            lines.append("  needs attention: " + attention.map { one($0.id) }.joined(separator: ", "))
        }
        if let reason = report.aborted {
            lines.append("  " + paint("ABORTED: " + one(reason), [.magenta, .bold]))
        }
        return lines
    }

    static func symbol(_ status: StepStatus) -> String {
        switch status {
        case .ok: return "✔"
        case .warn: return "▲"
        case .fail: return "✖"
        case .error: return "‼"
        case .skipped: return "–"
        }
    }

    private static func style(_ status: StepStatus) -> Style {
        switch status {
        case .ok: return .green
        case .warn: return .yellow
        case .fail: return .red
        case .error: return .magenta
        case .skipped: return .dim
        }
    }

    /// `size_pct 81% (warn 80, crit 90)`.
    private static func metric(_ metric: Metric) -> String {
        var text = "\(ReportText.oneLine(metric.name)) \(ReportText.decimal(metric.value))"
        switch metric.unit {
        case nil, "count"?: break
        case "%"?: text += "%"
        case let unit?: text += " " + ReportText.oneLine(unit)
        }
        let limits = [metric.warn.map { "warn \(ReportText.decimal($0))" }, metric.crit.map { "crit \(ReportText.decimal($0))" }]
            .compactMap { $0 }
        if !limits.isEmpty { text += " (" + limits.joined(separator: ", ") + ")" }
        return text
    }

    private static func clock(_ date: Date) -> String {
        let iso = ReportText.iso8601(date)
        return String(iso.prefix(10)) + " " + String(iso.dropFirst(11).prefix(8)) + " UTC"
    }

    private func one(_ text: String) -> String { ReportText.oneLine(text) }

    /// A step that dumped a whole log into its message must not bury the other steps.
    private static func clip(_ text: String, limit: Int = 400) -> String {
        guard text.count > limit else { return text }
        return text.prefix(limit) + "… (+\(text.count - limit) chars: --format json has all of it)"
    }

    // MARK: colour

    private struct Style: OptionSet {
        let rawValue: Int
        static let plain = Style([])
        static let bold = Style(rawValue: 1)
        static let dim = Style(rawValue: 2)
        static let red = Style(rawValue: 4)
        static let green = Style(rawValue: 8)
        static let yellow = Style(rawValue: 16)
        static let magenta = Style(rawValue: 32)
        static let cyan = Style(rawValue: 64)
    }

    private func paint(_ text: String, _ style: Style) -> String {
        guard options.color, !style.isEmpty, !text.isEmpty else { return text }
        var codes: [String] = []
        if style.contains(.bold) { codes.append("1") }
        if style.contains(.dim) { codes.append("2") }
        if style.contains(.red) { codes.append("31") }
        if style.contains(.green) { codes.append("32") }
        if style.contains(.yellow) { codes.append("33") }
        if style.contains(.magenta) { codes.append("35") }
        if style.contains(.cyan) { codes.append("36") }
        return "\u{1B}[\(codes.joined(separator: ";"))m\(text)\u{1B}[0m"
    }
}
