import Foundation
import Testing
@testable import Checks

/// Relative thresholds follow the one rule: a limit fires when the change reaches it. Each limit is
/// driven to limit − ε, limit and limit + ε; a zero baseline has no percentage.
@Suite("Baselines: relative thresholds")
struct BaselineComparisonTests {
    /// (baseline, current, expected) with increase_pct { warn: 20, crit: 50 }.
    @Test(arguments: [
        (10.0, 11.99, StepStatus.ok), (10.0, 12.0, .warn), (10.0, 12.01, .warn),
        (10.0, 14.99, .warn), (10.0, 15.0, .fail), (10.0, 15.01, .fail),
        (2.0, 2.4, .warn), (2.0, 2.399, .ok), (2.0, 3.0, .fail),
        (10.0, 5.0, .ok),
    ])
    func increasePct(baseline: Double, current: Double, expected: StepStatus) {
        let limits = RelativeThresholds(increasePct: Thresholds(warn: 20, crit: 50))
        let verdict = BaselineComparison(current: current, baseline: baseline).evaluate(limits)
        #expect(verdict.status == expected, "\(current) vs \(baseline): \(verdict.findings)")
    }

    /// (baseline, current, expected) with increase_abs { warn: 5, crit: 10 }.
    @Test(arguments: [
        (3.0, 7.99, StepStatus.ok), (3.0, 8.0, .warn), (3.0, 8.01, .warn),
        (3.0, 12.99, .warn), (3.0, 13.0, .fail), (3.0, 13.01, .fail),
        (0.1, 5.1, .warn), (0.0, 10.0, .fail),
    ])
    func increaseAbs(baseline: Double, current: Double, expected: StepStatus) {
        let limits = RelativeThresholds(increaseAbs: Thresholds(warn: 5, crit: 10))
        #expect(BaselineComparison(current: current, baseline: baseline).evaluate(limits).status == expected)
    }

    /// Decreases are written as positive numbers: decrease_pct { crit: 50 } fails when the value halves.
    @Test(arguments: [(100.0, 50.01, StepStatus.ok), (100.0, 50.0, .fail), (100.0, 49.99, .fail), (100.0, 150.0, .ok)])
    func decreasePct(baseline: Double, current: Double, expected: StepStatus) {
        let limits = RelativeThresholds(decreasePct: Thresholds(crit: 50))
        #expect(BaselineComparison(current: current, baseline: baseline).evaluate(limits).status == expected)
    }

    @Test(arguments: [(99.5, 97.51, StepStatus.ok), (99.5, 97.5, .warn), (99.5, 94.5, .fail)])
    func decreaseAbs(baseline: Double, current: Double, expected: StepStatus) {
        let limits = RelativeThresholds(decreaseAbs: Thresholds(warn: 2, crit: 5))
        #expect(BaselineComparison(current: current, baseline: baseline).evaluate(limits).status == expected)
    }

    /// 0 → 0 is no change; 0 → anything has no percentage: it warns unless increase_abs is there to decide.
    @Test func zeroBaseline() {
        let pctOnly = RelativeThresholds(increasePct: Thresholds(warn: 20, crit: 50))
        #expect(BaselineComparison(current: 0, baseline: 0).evaluate(pctOnly).status == .ok)
        #expect(BaselineComparison(current: 0, baseline: 0).changePct == 0)
        let fromZero = BaselineComparison(current: 3, baseline: 0)
        #expect(fromZero.changePct == nil)
        let verdict = fromZero.evaluate(pctOnly)
        #expect(verdict.status == .warn)
        #expect(verdict.findings.first?.contains("baseline is 0") == true, "\(verdict.findings)")
        let both = RelativeThresholds(increasePct: Thresholds(warn: 20, crit: 50), increaseAbs: Thresholds(warn: 5, crit: 10))
        #expect(fromZero.evaluate(both).status == .ok)
        #expect(BaselineComparison(current: 5, baseline: 0).evaluate(both).status == .warn)
        #expect(fromZero.summary == "3 vs 0 (+3, new)")
    }

    @Test func summaryAndMetricsShowWhy() {
        let c = BaselineComparison(current: 4, baseline: 2)
        #expect(c.summary == "4 vs 2 (+2, +100%)")
        let metrics = c.metrics("error_pct", unit: "%", limits: RelativeThresholds(increasePct: Thresholds(warn: 20, crit: 50)))
        #expect(metrics.map(\.name) == ["error_pct_baseline", "error_pct_delta", "error_pct_change_pct"])
        #expect(metrics.last?.value == 100 && metrics.last?.crit == 50)
    }

    @Test(arguments: [
        ("previous", BaselineSource.previousWindow), ("24h-ago", .shifted(86_400)), ("7d-ago", .shifted(604_800)),
        ("last-ok", .lastOK), ("run:20261129-101500-ab12", .run("20261129-101500-ab12")),
    ])
    func parsesSources(text: String, expected: BaselineSource) throws {
        #expect(try BaselineSource.parse(text).get() == expected)
    }

    @Test(arguments: ["yesterday", "run:", "-ago", "0s-ago", "24x-ago"])
    func rejectsSources(text: String) {
        #expect(throws: StepError.self) { try BaselineSource.parse(text).get() }
    }

    @Test func relativeLimitsMustBeMappings() {
        #expect(throws: StepError.self) { try RelativeThresholds(["increase_pct": .int(20)], where: "t") }
        #expect(throws: StepError.self) { try RelativeThresholds(["increase_abs": .object(["warm": .int(1)])], where: "t") }
        #expect((try? RelativeThresholds(["increase_pct": .object(["crit": .int(50)])], where: "t"))?.increasePct?.crit == 50)
    }
}
