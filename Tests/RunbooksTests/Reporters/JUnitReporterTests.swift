import Checks
import Foundation
import Runbooks
import Support
import Testing

/// JUnit XML read back by Python's junitparser (what many CI integrations use), on a strict XML parser.
@Suite struct JUnitReporterTests {
    /// Prints what junitparser understood: suite attributes, counts recomputed from the cases,
    /// properties and every case with its results.
    static let script = #"""
import json, sys
from junitparser import JUnitXml, Failure, Error, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
out = {"tests": xml.tests, "failures": xml.failures, "errors": xml.errors, "skipped": xml.skipped, "suites": []}
for s in xml:
    cases = []
    for c in s:
        cases.append({"name": c.name, "classname": c.classname, "time": c.time, "system_out": c.system_out,
                      "results": [{"type": type(r).__name__, "message": r.message, "rtype": r.type} for r in c.result]})
    declared = {"tests": s.tests, "failures": s.failures, "errors": s.errors, "skipped": s.skipped, "time": s.time}
    s.update_statistics()
    recomputed = {"tests": s.tests, "failures": s.failures, "errors": s.errors, "skipped": s.skipped}
    out["suites"].append({"name": s.name, "declared": declared, "recomputed": recomputed,
                          "properties": {p.name: p.value for p in s.properties()}, "cases": cases})
print(json.dumps(out))
"""#

    func parse(_ report: RunReport) throws -> JSONValue {
        try Consumer.junitparser.require()
        let xml = JUnitReporter().render(report)
        let output = try runConsumer(["python3", "-c", Self.script, "{}"], file: "report.xml", content: xml)
        #expect(output.exitCode == 0, "junitparser rejected the document: \(output.stderr)")
        return try #require(JSONValue.parse(output.stdout), "junitparser printed no JSON: \(output.stdout) \(output.stderr)")
    }

    @Test(.enabled(if: Consumer.junitparser.shouldRun, "junitparser missing: python3 -m pip install junitparser"))
    func junitparserReadsCountsThatMatchTheReport() throws {
        let parsed = try parse(ReportFixture.report)
        let suites = try #require(parsed["suites"]?.array)
        try #require(suites.count == 1)
        let suite = suites[0]
        #expect(suite["name"] == "verify")
        let expected: JSONValue = ["tests": 7, "failures": 2, "errors": 1, "skipped": 1]
        for key in ["tests", "failures", "errors", "skipped"] {
            #expect(suite["declared"]?[key] == expected[key], "declared \(key)")
            #expect(suite["recomputed"]?[key] == expected[key], "\(key) recomputed from the testcases")
        }
        #expect(suite["declared"]?["time"]?.double == 9.137)
        #expect(suite["properties"]?["environment"] == "production")
        #expect(suite["properties"]?["run_id"] == "20261124-112610-7f3c")

        let cases = try #require(suite["cases"]?.array)
        #expect(cases.map { $0["name"]?.string ?? "" } == ReportFixture.report.results.map(\.id))
        #expect(cases.allSatisfy { $0["classname"] == "opsctl.verify" })
        func results(_ id: String) -> [JSONValue] {
            cases.first { $0["name"]?.string == id }?["results"]?.array ?? []
        }
        #expect(results("env").isEmpty)
        #expect(results("db-size").isEmpty, "warn passes")
        #expect(cases.first { $0["name"] == "db-size" }?["system_out"]?.string?.hasPrefix("WARN") == true)
        #expect(results("migrations").first?["type"] == "Failure")
        #expect(results("migrations").first?["rtype"] == "fail")
        #expect(results("health").first?["type"] == "Error")
        #expect(results("smoke").first?["type"] == "Skipped")
        #expect(results("smoke").first?["message"]?.string?.contains("blocked by migrations, health") == true)
        #expect(cases.first { $0["name"] == "migrations" }?["time"]?.double == 1.2)
    }

    @Test(.enabled(if: Consumer.junitparser.shouldRun, "junitparser missing: python3 -m pip install junitparser"))
    func hostileShellOutputSurvivesEscapingIntact() throws {
        let parsed = try parse(ReportFixture.report)
        let health = try #require(parsed["suites"]?.array?.first?["cases"]?.array?.first { $0["name"] == "health" })
        let message = try #require(health["results"]?.array?.first?["message"]?.string)
        // Markup, quotes, CDATA end and line breaks come back exactly; controls are replaced; the secret is masked.
        #expect(message.hasPrefix("GET /healthz -> 502 <html><b>Bad Gateway</b></html> & \"retry\" 'later' | tail\n# SKIP not really\n"))
        #expect(message.contains("Bail out! fake ]]> red"))
        #expect(!message.contains("\u{1B}") && !message.contains("\u{07}") && !message.contains("\u{0B}"))
        #expect(message.contains("token=****"))
        #expect(!message.contains(ReportFixture.canary))
    }

    @Test(.enabled(if: Consumer.junitparser.shouldRun, "junitparser missing: python3 -m pip install junitparser"))
    func abortedRunAddsAnErroredTestcase() throws {
        var report = ReportFixture.passingReport
        report.aborted = "lock held by alice@ops-1 since 11:02"
        let parsed = try parse(report)
        let suite = try #require(parsed["suites"]?.array?.first)
        #expect(suite["declared"]?["tests"] == 4)
        #expect(suite["declared"]?["errors"] == 1)
        #expect(suite["recomputed"]?["errors"] == 1)
        #expect(suite["properties"]?["aborted"] == "lock held by alice@ops-1 since 11:02")
    }

    @Test func escapesEveryCharacterXMLForbids() {
        var report = ReportFixture.passingReport
        report.runbook = "odd\"<runbook>&'"
        report.results[0].message = "nul\u{0} esc\u{1B} del\u{7F} c1\u{85} fffe\u{FFFE} ok"
        let xml = JUnitReporter().render(report)
        #expect(xml.contains("name=\"odd&quot;&lt;runbook&gt;&amp;&apos;\""))
        for forbidden in ["\u{0}", "\u{1B}", "\u{7F}", "\u{85}", "\u{FFFE}"] {
            #expect(!xml.contains(forbidden))
        }
    }
}
