import Foundation
import Testing
@testable import LogAnalysis

/// `logs analyze --baseline FILE|DURATION` and relative thresholds on error rate, count and latency.
@Suite struct LogBaselineTests {
    static let now = Date(timeIntervalSince1970: 1_780_000_000)

    /// JSON lines: `count` lines `minutesAgo` before `now`, the first `errors` of them at level error.
    static func lines(minutesAgo: Double, count: Int, errors: Int, latency: Int = 100) -> String {
        (0..<count).map { i in
            let t = LogTime.iso(now.addingTimeInterval(-minutesAgo * 60 + Double(i) * 0.01))
            let level = i < errors ? "error" : "info"
            return #"{"time":"\#(t)","level":"\#(level)","msg":"request \#(level == "error" ? "failed: upstream 503" : "ok")","duration_ms":\#(latency)}"#
        }.joined(separator: "\n") + "\n"
    }

    func options(_ rules: [String], since: Double? = nil) throws -> LogAnalysisOptions {
        var o = LogAnalysisOptions(latencyField: "duration_ms", thresholds: try rules.map { try LogThreshold($0) }, workers: 2, now: Self.now)
        o.since = since
        return o
    }

    @Test func anotherFileDoubledErrorRateFails() throws {
        let yesterday = TempFile(Self.lines(minutesAgo: 30, count: 200, errors: 4))
        let today = TempFile(Self.lines(minutesAgo: 30, count: 200, errors: 8))
        let rules = ["error_rate_increase_pct>=50:warn", "error_rate_increase_pct>=100:fail"]
        let report = try LogAnalyzer(try options(rules)).analyze(paths: [today.path], baseline: .files([yesterday.path]))
        #expect(report.status == .fail, "\(report.thresholds)")
        let c = try #require(report.baseline?.comparisons["error_rate"])
        #expect(c.baseline == 2 && c.current == 4 && c.delta == 2 && c.changePct == 100)
        #expect(report.baseline?.source == "file \(yesterday.path)")
        #expect(report.thresholds.map(\.value) == [100, 100])

        let same = try LogAnalyzer(try options(rules)).analyze(paths: [yesterday.path], baseline: .files([yesterday.path]))
        #expect(same.status == .ok, "\(same.thresholds)")
        // The JSON report carries the comparison for consumers.
        #expect(try same.jsonText().contains("\"change_pct\" : 0"))
    }

    /// `--baseline 1h`: the current window is the last hour, the baseline the hour before it, same file.
    @Test func previousWindowOfTheSameFile() throws {
        let file = TempFile(Self.lines(minutesAgo: 90, count: 100, errors: 1, latency: 100)
                            + Self.lines(minutesAgo: 30, count: 100, errors: 5, latency: 300))
        let rules = ["errors_increase_abs>=3:warn", "errors_increase_abs>=10:fail", "p95_increase_pct>=200:fail"]
        let report = try LogAnalyzer(try options(rules)).analyze(paths: [file.path], baseline: .window(3600))
        #expect(report.matched == 100, "the current hour only")
        #expect(report.baseline?.values["lines"] == 100)
        #expect(report.baseline?.comparisons["errors"]?.delta == 4)
        #expect(report.baseline?.comparisons["p95"]?.changePct == 200)
        #expect(report.thresholds.map(\.status) == [.warn, .ok, .fail], "\(report.thresholds)")
        #expect(report.baseline?.source.hasPrefix("previous 1h") == true, "\(report.baseline?.source ?? "")")
    }

    /// Boundaries of a relative rule are the rule's own operator: `>=` fires at the limit, `>` above it.
    @Test(arguments: [(2, LogStatus.ok), (3, .warn), (4, .warn)])
    func increaseAbsBoundary(extra: Int, expected: LogStatus) throws {
        let base = TempFile(Self.lines(minutesAgo: 30, count: 100, errors: 2))
        let now = TempFile(Self.lines(minutesAgo: 30, count: 100, errors: 2 + extra))
        let report = try LogAnalyzer(try options(["errors_increase_abs>=3:warn"])).analyze(paths: [now.path], baseline: .files([base.path]))
        #expect(report.status == expected)
    }

    /// A zero baseline has no percentage: the % rule warns, unless an _abs rule on the metric decides.
    @Test func zeroBaseline() throws {
        let clean = TempFile(Self.lines(minutesAgo: 30, count: 100, errors: 0))
        let some = TempFile(Self.lines(minutesAgo: 30, count: 100, errors: 1))
        let pct = try LogAnalyzer(try options(["error_rate_increase_pct>=100:fail"])).analyze(paths: [some.path], baseline: .files([clean.path]))
        #expect(pct.status == .warn)
        #expect(pct.thresholds.first?.note?.contains("baseline is 0") == true, "\(pct.thresholds)")
        let withAbs = try LogAnalyzer(try options(["error_rate_increase_pct>=100:fail", "error_rate_increase_abs>=5:fail"]))
            .analyze(paths: [some.path], baseline: .files([clean.path]))
        #expect(withAbs.status == .ok, "\(withAbs.thresholds)")
        let none = try LogAnalyzer(try options(["error_rate_increase_pct>=100:fail"])).analyze(paths: [clean.path], baseline: .files([clean.path]))
        #expect(none.status == .ok, "0 → 0 is no change")
    }

    /// Without a baseline a relative rule warns "no baseline"; an empty baseline file has no latency to compare.
    @Test func missingBaseline() throws {
        let file = TempFile(Self.lines(minutesAgo: 30, count: 10, errors: 1))
        let plain = try LogAnalyzer(try options(["error_rate_increase_pct>=50:fail"])).analyze(paths: [file.path])
        #expect(plain.status == .warn && plain.thresholds.first?.note?.contains("no baseline") == true)
        let empty = TempFile("")
        let latency = try LogAnalyzer(try options(["p95_increase_pct>=50:fail"])).analyze(paths: [file.path], baseline: .files([empty.path]))
        #expect(latency.status == .warn, "\(latency.thresholds)")
        #expect(latency.thresholds.first?.note?.contains("no baseline value of p95") == true, "\(latency.thresholds)")
    }

    @Test func parsesTheFlag() {
        #expect(LogBaselineSpec("1h") == .window(3600))
        #expect(LogBaselineSpec("15m") == .window(900))
        #expect(LogBaselineSpec("/var/log/app.log.1") == .files(["/var/log/app.log.1"]))
        #expect((try? LogThreshold("p99_decrease_abs>5:warn"))?.metric == "p99_decrease_abs")
        #expect(throws: LogAnalysisError.self) { try LogThreshold("bogus_increase_pct>5:warn") }
    }

    @Test func standardInputCannotBeReadTwice() throws {
        #expect(throws: LogAnalysisError.self) {
            try LogAnalyzer(try options([])).analyze(paths: ["-"], baseline: .window(3600))
        }
    }
}
