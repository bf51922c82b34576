import Foundation
import Testing
@testable import LogAnalysis

@Suite struct ThresholdTests {
    @Test(arguments: [
        ("error_rate>1%:warn", "error_rate", LogThreshold.Comparison.greater, 1.0, LogStatus.warn),
        ("error_rate >= 5 % : fail", "error_rate", .greaterOrEqual, 5, .fail),
        ("p95>2000:fail", "p95", .greater, 2000, .fail),
        ("p95>2s:crit", "p95", .greater, 2000, .fail),
        ("lines<1:warn", "lines", .less, 1, .warn),
        ("errors>0", "errors", .greater, 0, .fail),
    ])
    func parses(text: String, metric: String, comparison: LogThreshold.Comparison, value: Double, status: LogStatus) throws {
        let t = try LogThreshold(text)
        #expect(t.metric == metric)
        #expect(t.comparison == comparison)
        #expect(t.value == value)
        #expect(t.status == status)
    }

    @Test(arguments: ["error_rate", "bogus>1:warn", "error_rate>x:warn", "error_rate>1:maybe"])
    func rejects(text: String) {
        #expect(throws: LogAnalysisError.self) { try LogThreshold(text) }
    }

    @Test func evaluatesIntoTheWorstStatus() throws {
        let c = Corpus.pino(lines: 300)
        let file = TempFile(c.text)
        let rules = try ["error_rate>1%:warn", "error_rate>50%:fail", "p95>2000:fail", "p99>100:warn", "unparsed>0:fail"].map { try LogThreshold($0) }
        let r = try analyze([file.path]) { $0.thresholds = rules; $0.latencyField = "duration_ms" }
        #expect(r.status == .warn)
        #expect(r.thresholds.map(\.status) == [.warn, .ok, .ok, .warn, .ok])
        let p95 = try LogThreshold("p95>1:fail")
        let noLatency = try analyze([file.path]) { $0.thresholds = [p95] }
        #expect(noLatency.status == .ok)
        #expect(noLatency.thresholds.first?.note != nil)
    }
}

/// Log thresholds written with an operator mean exactly that operator, at the boundary too.
@Suite("Log threshold boundaries")
struct LogThresholdBoundaryTests {
    @Test(arguments: [
        ("errors>2:warn", 1.0, false), ("errors>2:warn", 2.0, false), ("errors>2:warn", 3.0, true),
        ("errors>=2:warn", 1.0, false), ("errors>=2:warn", 2.0, true), ("errors>=2:warn", 3.0, true),
        ("errors<2:warn", 1.0, true), ("errors<2:warn", 2.0, false), ("errors<2:warn", 3.0, false),
        ("errors<=2:warn", 1.0, true), ("errors<=2:warn", 2.0, true), ("errors<=2:warn", 3.0, false),
    ])
    func operatorsMeanWhatTheySay(rule: String, value: Double, fires: Bool) throws {
        #expect(try LogThreshold(rule).breached(by: value) == fires)
    }
}
