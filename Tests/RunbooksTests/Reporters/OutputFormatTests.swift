import Checks
import Foundation
import Runbooks
import Testing

@Suite struct OutputFormatTests {
    @Test(arguments: OutputFormat.allCases)
    func parsesEveryName(format: OutputFormat) throws {
        #expect(try OutputFormat.parse(format.rawValue) == format)
        #expect(try OutputFormat.parse(" " + format.rawValue.uppercased()) == format)
    }

    @Test func unknownNameListsTheValidOnes() throws {
        let error = try #require(throws: UnknownOutputFormatError.self) { try OutputFormat.parse("xml") }
        #expect(error.description == "unknown output format 'xml'; valid formats: human, json, jsonl, junit, tap, nagios, prometheus")
    }

    @Test func factoryBuildsTheMatchingReporter() {
        let options = ReporterOptions(color: true, strict: true, verbose: true)
        #expect(OutputFormat.human.makeReporter(options: options) is HumanReporter)
        #expect(OutputFormat.json.makeReporter(options: options) is JSONReporter)
        #expect(OutputFormat.jsonl.makeReporter(options: options) is JSONLinesReporter)
        #expect(OutputFormat.junit.makeReporter(options: options) is JUnitReporter)
        #expect(OutputFormat.tap.makeReporter(options: options) is TAPReporter)
        #expect(OutputFormat.nagios.makeReporter(options: options) is NagiosReporter)
        #expect(OutputFormat.prometheus.makeReporter(options: options) is PrometheusReporter)
    }

    @Test(arguments: [
        ([StepStatus.ok, .skipped], false, nil as String?, Int32(0)),
        ([.ok, .warn], false, nil, 0),
        ([.ok, .warn], true, nil, 1),
        ([.ok, .fail], false, nil, 1),
        ([.error], false, nil, 1),
        ([.ok], false, "confirmation refused", 2),
        ([.fail], false, "interrupted", 2),
    ])
    func exitCodeContract(statuses: [StepStatus], strict: Bool, aborted: String?, code: Int32) {
        let report = RunReport(runID: "r", runbook: "verify", results: statuses.enumerated().map {
            StepResult(id: "s\($0.offset)", title: "", kind: "shell", status: $0.element, message: "")
        }, aborted: aborted)
        #expect(OutputFormat.human.exitCode(for: report, strict: strict) == code)
        #expect(OutputFormat.junit.exitCode(for: report, strict: strict) == code)
    }
}
