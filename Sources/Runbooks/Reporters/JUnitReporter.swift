import Checks
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `--format junit`: one `<testcase>` per step, for CI dashboards (Jenkins, GitLab, GitHub).
///
/// fail → `<failure type="fail">`, error → `<error type="error">`, skipped → `<skipped>`,
/// warn passes with `WARN` in `<system-out>`. An aborted run adds one `<testcase name="(run aborted)">`
/// with an `<error type="aborted">` so the dashboard turns red; the counts include it.
public struct JUnitReporter: Reporter {
    public var options: ReporterOptions

    public init(options: ReporterOptions = ReporterOptions()) { self.options = options }

    public func render(_ original: RunReport) -> String {
        let report = original.masked(by: options.masker)
        let classname = "opsctl." + report.runbook
        var cases: [String] = report.results.map { testcase($0, classname: classname) }
        var errors = report.count(.error)
        if let reason = report.aborted {
            errors += 1
            cases.append("""
                    <testcase classname="\(Self.attr(classname))" name="(run aborted)" time="0.000">
                      <error message="\(Self.attr("run aborted: " + reason))" type="aborted">\(Self.text(
                          "The run stopped before every step finished: \(reason)"))</error>
                    </testcase>
                """)
        }
        let tests = cases.count
        let counts = "tests=\"\(tests)\" failures=\"\(report.count(.fail))\" errors=\"\(errors)\" "
            + "skipped=\"\(report.count(.skipped))\" time=\"\(ReportText.seconds(fromMilliseconds: report.durationMs))\""
        var properties = [("run_id", report.runID), ("runbook", report.runbook)]
        if let environment = report.environment { properties.append(("environment", environment)) }
        properties.append(("dry_run", report.dryRun ? "true" : "false"))
        if let aborted = report.aborted { properties.append(("aborted", aborted)) }

        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites name=\"opsctl\" \(counts)>\n"
        xml += "  <testsuite name=\"\(Self.attr(report.runbook))\" \(counts) "
            + "timestamp=\"\(Self.timestamp(report.startedAt))\" hostname=\"\(Self.attr(Self.hostname))\">\n"
        xml += "    <properties>\n"
        for (name, value) in properties {
            xml += "      <property name=\"\(Self.attr(name))\" value=\"\(Self.attr(value))\"/>\n"
        }
        xml += "    </properties>\n"
        for testcase in cases { xml += testcase + "\n" }
        xml += "  </testsuite>\n</testsuites>\n"
        return xml
    }

    private func testcase(_ result: StepResult, classname: String) -> String {
        let open = "    <testcase classname=\"\(Self.attr(classname))\" name=\"\(Self.attr(result.id))\" "
            + "time=\"\(ReportText.seconds(fromMilliseconds: result.durationMs))\">"
        let message = result.message.isEmpty ? result.status.rawValue : result.message
        var body: [String] = []
        switch result.status {
        case .fail:
            body.append("<failure message=\"\(Self.attr(message))\" type=\"fail\">\(Self.text(diagnostics(result)))</failure>")
        case .error:
            body.append("<error message=\"\(Self.attr(message))\" type=\"error\">\(Self.text(diagnostics(result)))</error>")
        case .skipped:
            var reason = message
            if let blockers = result.blockedBy, !blockers.isEmpty {
                reason += " (blocked by \(blockers.joined(separator: ", ")))"
            }
            body.append("<skipped message=\"\(Self.attr(reason))\"/>")
        case .warn:
            body.append("<system-out>\(Self.text("WARN: " + diagnostics(result)))</system-out>")
        case .ok:
            body.append("<system-out>\(Self.text("OK: " + diagnostics(result)))</system-out>")
        }
        return open + "\n" + body.map { "      " + $0 }.joined(separator: "\n") + "\n    </testcase>"
    }

    /// The multi-line text inside an element: message, attempts, remediation, metrics, details.
    private func diagnostics(_ result: StepResult) -> String {
        var lines = [result.message]
        if !result.title.isEmpty, result.title != result.id { lines.append("step: \(result.title) (\(result.kind))") }
        else { lines.append("kind: \(result.kind)") }
        if result.attempts > 1 { lines.append("attempts: \(result.attempts)") }
        if let remediation = result.remediation, result.status != .ok { lines.append("remediation: \(remediation)") }
        for metric in result.metrics {
            var line = "metric \(metric.name) = \(ReportText.decimal(metric.value))\(metric.unit.map { " " + $0 } ?? "")"
            if let warn = metric.warn { line += " (warn \(ReportText.decimal(warn)))" }
            if let crit = metric.crit { line += " (crit \(ReportText.decimal(crit)))" }
            lines.append(line)
        }
        if !result.details.isEmpty, options.verbose || result.status.isFailure {
            lines.append("details: " + JSONValue.object(result.details).jsonText)
        }
        return lines.joined(separator: "\n")
    }

    /// JUnit's schema wants a timezone-less timestamp; UTC is what CI servers show anyway.
    private static func timestamp(_ date: Date) -> String {
        String(ReportText.iso8601(date).prefix(19))
    }

    private static var hostname: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Text content: `&`, `<`, `>` escaped; characters illegal in XML 1.0 replaced.
    static func text(_ value: String) -> String { escape(value, attribute: false) }

    /// Attribute values: also quotes, and whitespace as character references so attribute-value
    /// normalisation keeps line breaks.
    static func attr(_ value: String) -> String { escape(value, attribute: true) }

    private static func escape(_ value: String, attribute: Bool) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in ReportText.stripANSI(value).unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where attribute: out += "&quot;"
            case "'" where attribute: out += "&apos;"
            case "\n" where attribute: out += "&#10;"
            case "\r": out += "&#13;"
            case "\t" where attribute: out += "&#9;"
            case "\n", "\t": out.unicodeScalars.append(scalar)
            default:
                // XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
                // Discouraged C1 controls are replaced too: some JUnit parsers reject them.
                let v = scalar.value
                if v < 0x20 || (0x7F...0x9F).contains(v) || v == 0xFFFE || v == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
