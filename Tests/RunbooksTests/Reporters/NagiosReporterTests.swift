import Checks
import Foundation
import Runbooks
import Support
import Testing

/// Nagios plugin output checked against the plugin development guidelines' grammar.
@Suite struct NagiosReporterTests {
    /// `'label'=value[UOM];[warn];[crit];[min];[max]`: label quoted (a quote doubled, no `=`),
    /// value a number or `U`, UOM from the guideline set.
    static let perfItem = #"'(?:[^'=]|'')+'=(?:-?[0-9]+(?:\.[0-9]+)?(?:s|ms|us|%|B|KB|MB|TB|c)?|U);(-?[0-9.]*);(-?[0-9.]*);(-?[0-9.]*);(-?[0-9.]*)"#
    static let firstLine = "OPSCTL (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\\n]+?)(?: \\| (\(perfItem)(?: \(perfItem))*))?"

    func firstLine(_ report: RunReport) throws -> (line: String, lines: [String]) {
        let text = NagiosReporter().render(report)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.last == "", "output ends with a newline")
        return (lines[0], Array(lines.dropFirst().dropLast()))
    }

    @Test func firstLineFollowsThePluginGuidelines() throws {
        let (line, longText) = try firstLine(ReportFixture.report)
        let regex = try Regex(Self.firstLine)
        #expect(line.wholeMatch(of: regex) != nil, "not guideline grammar: \(line)")
        #expect(line.hasPrefix("OPSCTL CRITICAL - verify@production: 2 fail (migrations, reconcile-dry), 1 error (health), 1 warn (db-size)"))
        // One long-text line per step that is not ok, none of them able to start perfdata.
        #expect(longText.count == ReportFixture.report.results.filter { $0.status != .ok }.count)
        #expect(longText.allSatisfy { !$0.contains("|") })
        #expect(longText.contains { $0.hasPrefix("[CRITICAL] migrations: 2 pending migrations") && $0.contains("-> opsctl migrate apply") })
        #expect(!(longText + [line]).contains { $0.contains(ReportFixture.canary) })
    }

    @Test func perfdataUsesOnlyGuidelineUnits() throws {
        let (line, _) = try firstLine(ReportFixture.report)
        let perf = String(line.split(separator: "|", maxSplits: 1)[1])
        #expect(perf.contains("'db-size_used_pct'=81%;80;90;0;100"))
        #expect(perf.contains("'db-connect_latency'=12.5ms;200;1000;;"))
        #expect(perf.contains("'db-size_size'=33177.6MB;;;;"), "GB is not a guideline unit: converted to MB")
        #expect(perf.contains("'db-size_relations'=342;;;;"), "count has no UOM")
        #expect(perf.contains("'db-size_cert_days_left'=12;14;7;;"), "days has no UOM")
        #expect(perf.contains("'reconcile-dry_rows_''missing'' \"x\"'=3;;;;"), "quote doubled, = replaced")
        #expect(perf.contains("'reconcile-dry_ratio'=0.000012;;;;"), "no exponent notation")
        #expect(perf.contains("'duration'=9.138s;;;0;"))
    }

    @Test(arguments: [
        ([StepStatus.ok, .skipped], Int32(0), "OK"),
        ([.ok, .warn], 1, "WARNING"),
        ([.warn, .error], 3, "UNKNOWN"),
        ([.error, .fail, .warn], 2, "CRITICAL"),
        ([.fail], 2, "CRITICAL"),
        ([], 0, "OK"),
    ])
    func stateAndExitCode(statuses: [StepStatus], code: Int32, word: String) throws {
        let report = RunReport(runID: "r1", runbook: "health", results: statuses.enumerated().map {
            StepResult(id: "s\($0.offset)", title: "Step", kind: "shell", status: $0.element, message: "m")
        })
        #expect(nagiosExitCode(for: report) == code)
        #expect(OutputFormat.nagios.exitCode(for: report, strict: true) == code)
        let (line, _) = try firstLine(report)
        #expect(line.hasPrefix("OPSCTL \(word) - health: "))
        #expect(line.wholeMatch(of: try Regex(Self.firstLine)) != nil, "\(line)")
    }

    @Test func anAbortedRunIsUnknownUnlessSomethingFailed() {
        var report = ReportFixture.passingReport
        report.aborted = "deadline exceeded"
        #expect(nagiosExitCode(for: report) == 3)
        report.results[0].status = .fail
        #expect(nagiosExitCode(for: report) == 2)
    }
}
