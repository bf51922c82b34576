import Checks
import Foundation
import Runbooks
import Support
import Testing

/// Prometheus text exposition checked by `promtool check metrics` (parser and linter).
@Suite struct PrometheusReporterTests {
    func promtool(_ text: String) throws -> ProcessOutput {
        try Consumer.promtool.require()
        return try ProcessRunner.run(["promtool", "check", "metrics"], stdin: text, timeout: 120)
    }

    @Test(.enabled(if: Consumer.promtool.shouldRun, "promtool missing: apt-get install prometheus"))
    func promtoolAcceptsTheFixture() throws {
        let text = PrometheusReporter().render(ReportFixture.report)
        let output = try promtool(text)
        #expect(output.exitCode == 0, "promtool: \(output.stdout)\(output.stderr)\n\(text)")
        #expect(output.stdout.isEmpty && output.stderr.isEmpty, "lint findings: \(output.stdout)\(output.stderr)")
    }

    @Test(.enabled(if: Consumer.promtool.shouldRun, "promtool missing: apt-get install prometheus"))
    func promtoolAcceptsHostileLabelValues() throws {
        var report = ReportFixture.report
        report.environment = "prod\\eu \"west\"\nline2"
        report.runbook = "run\"book"
        report.results[0].id = "we\"ird\nid\\x"
        report.results[0].kind = "shell\u{1B}[31m"
        report.results[1].metrics.append(Metric(name: "latency", value: .nan, unit: "ms"))
        report.results[2].metrics[0].value = .infinity
        let text = PrometheusReporter().render(report)
        let output = try promtool(text)
        #expect(output.exitCode == 0, "promtool: \(output.stdout)\(output.stderr)\n\(text)")
        #expect(text.contains("environment=\"prod\\\\eu \\\"west\\\"\\nline2\""))
        #expect(text.contains("step=\"we\\\"ird\\nid\\\\x\""))
    }

    @Test func statusGaugesAreOneHot() {
        let report = ReportFixture.report
        let lines = PrometheusReporter().render(report).split(separator: "\n").map(String.init)
        let stepStatus = lines.filter { $0.hasPrefix("opsctl_step_status{") }
        #expect(stepStatus.count == report.results.count * 5)
        #expect(stepStatus.filter { $0.hasSuffix(" 1") }.count == report.results.count)
        #expect(stepStatus.contains("opsctl_step_status{runbook=\"verify\",environment=\"production\",step=\"migrations\",kind=\"migrations.pending\",status=\"fail\"} 1"))
        let runStatus = lines.filter { $0.hasPrefix("opsctl_run_status{") }
        #expect(runStatus.count == 5)
        #expect(runStatus.filter { $0.hasSuffix(" 1") } == ["opsctl_run_status{runbook=\"verify\",environment=\"production\",status=\"error\"} 1"])
        #expect(lines.contains("opsctl_step_attempts{runbook=\"verify\",environment=\"production\",step=\"db-connect\",kind=\"postgres.connect\"} 3"))
        #expect(lines.contains("opsctl_step_duration_seconds{runbook=\"verify\",environment=\"production\",step=\"migrations\",kind=\"migrations.pending\"} 1.2"))
        #expect(lines.contains("opsctl_step_metric{runbook=\"verify\",environment=\"production\",step=\"db-size\",metric=\"used_pct\",unit=\"%\"} 81"))
        #expect(lines.contains("opsctl_run_timestamp_seconds{runbook=\"verify\",environment=\"production\"} 1795000000.25"))
        #expect(lines.contains("opsctl_run_duration_seconds{runbook=\"verify\",environment=\"production\"} 9.1375"))
        for family in ["opsctl_step_status", "opsctl_step_duration_seconds", "opsctl_step_attempts", "opsctl_step_metric",
                       "opsctl_run_status", "opsctl_run_duration_seconds", "opsctl_run_timestamp_seconds"] {
            #expect(lines.contains("# TYPE \(family) gauge"))
            #expect(lines.contains { $0.hasPrefix("# HELP \(family) ") })
        }
    }
}
