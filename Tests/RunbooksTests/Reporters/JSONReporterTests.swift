import Checks
import Foundation
import Runbooks
import Support
import Testing

/// `json` decodes back to the same report; `jsonl` is one valid event per line, in order.
@Suite struct JSONReporterTests {
    @Test func jsonRoundTripsToAnEqualReport() throws {
        let report = ReportFixture.report
        let text = JSONReporter().render(report)
        let decoded = try ReportJSON.decoder().decode(RunReport.self, from: Data(text.utf8))
        #expect(decoded == report.masked(by: .shared))
        #expect(!text.contains(ReportFixture.canary))
        #expect(text.contains("\"started_at\" : \"2026-11-18T11:06:40.250Z\""))
        #expect(text.contains("\"status\" : \"error\""), "the overall status is part of the document")
        // Sorted keys, pretty printed: stable for diffs.
        let keys = text.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
        #expect(keys == keys.sorted())
    }

    @Test func nonFiniteMetricsDoNotBreakTheDocument() throws {
        var report = ReportFixture.passingReport
        report.results[1].metrics = [Metric(name: "ratio", value: .nan), Metric(name: "max", value: .infinity)]
        let text = JSONReporter().render(report)
        let decoded = try ReportJSON.decoder().decode(RunReport.self, from: Data(text.utf8))
        #expect(decoded.results[1].metrics[0].value.isNaN)
        #expect(decoded.results[1].metrics[1].value == .infinity)
    }

    @Test func jsonlRendersEveryEventInOrder() throws {
        let report = ReportFixture.report
        let text = JSONLinesReporter().render(report)
        #expect(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n").map(String.init)
        let events = try lines.map { try #require(JSONValue.parse($0), "not JSON: \($0)") }
        let expected = ["run_started"] + report.results.flatMap { _ in ["step_started", "step_finished"] } + ["run_finished"]
        #expect(events.map { $0["event"]?.string ?? "" } == expected)
        #expect(events.allSatisfy { $0["run_id"] == "20261124-112610-7f3c" })
        #expect(events[0]["runbook"] == "verify" && events[0]["environment"] == "production")
        #expect(events[2]["result"]?["id"] == "env")

        // step_finished carries the full result.
        let finished = try lines.enumerated().filter { $0.offset % 2 == 0 && $0.offset > 0 && $0.offset < lines.count - 1 }
            .map { try ReportJSON.decoder().decode(ReportEvent.self, from: Data($0.element.utf8)).result }
        #expect(finished == report.masked().results.map(Optional.some))

        let last = try #require(events.last)
        #expect(last["status"] == "error")
        #expect(last["summary"] == ["ok": 2, "warn": 1, "fail": 2, "error": 1, "skipped": 1, "total": 7])
        #expect(last["duration_ms"]?.double == 9_137.5)
        #expect(!text.contains(ReportFixture.canary))
    }

    @Test func jsonlStreamsThroughTheLiveHooks() throws {
        let report = ReportFixture.report
        let reporter = OutputFormat.jsonl.makeReporter(options: ReporterOptions())
        #expect(reporter.isStreaming)
        var chunks: [String] = []
        reporter.runStarted(runbook: report.runbook, environment: report.environment, runID: report.runID) { chunks.append($0) }
        for result in report.results {
            reporter.stepStarted(id: result.id, title: result.title, kind: result.kind) { chunks.append($0) }
            reporter.stepFinished(result) { chunks.append($0) }
        }
        reporter.runFinished(report) { chunks.append($0) }
        #expect(chunks.count == 2 + 2 * report.results.count)
        #expect(chunks.allSatisfy { $0.hasSuffix("\n") && $0.dropLast().firstIndex(of: "\n") == nil })
        let events = try chunks.map { try ReportJSON.decoder().decode(ReportEvent.self, from: Data($0.utf8)) }
        #expect(events.allSatisfy { $0.runID == report.runID })
        #expect(events[1].event == .stepStarted && events[1].step == "env" && events[1].kind == "env.require")
        #expect(events.last?.summary?.fail == 2)
        #expect(!chunks.joined().contains(ReportFixture.canary))
    }

    @Test(arguments: OutputFormat.allCases.filter { $0 != .jsonl })
    func batchFormatsWriteTheWholeDocumentAtTheEnd(format: OutputFormat) {
        let reporter = format.makeReporter(options: ReporterOptions())
        #expect(!reporter.isStreaming)
        var chunks: [String] = []
        reporter.runStarted(runbook: "verify", environment: nil, runID: "r") { chunks.append($0) }
        reporter.stepFinished(ReportFixture.report.results[0]) { chunks.append($0) }
        #expect(chunks.isEmpty)
        reporter.runFinished(ReportFixture.report) { chunks.append($0) }
        #expect(chunks == [reporter.render(ReportFixture.report)])
    }
}
