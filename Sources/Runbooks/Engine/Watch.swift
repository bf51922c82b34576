import Checks
import Foundation
import Support

/// `--watch`: a runbook run again and again over a window, folded into one report — per step the
/// worst state, how long it was not ok, its transitions — instead of one snapshot.
public struct WatchPlan: Sendable {
    public var duration: Double
    public var every: Double
    public var untilOK = false
    public var untilFail = false
    /// A step fails the watch only when it stayed failing longer than this.
    public var tolerate: Double = 0

    public init(duration: Double, every: Double) {
        self.duration = duration
        self.every = every
    }
}

/// Accumulates the iterations of a watch.
public struct WatchSummary: Sendable {
    struct Track: Sendable {
        var first: StepResult
        var last: StepResult
        var lastAt: Date
        var worst: StepStatus
        var runs = 0
        var transitions: [(at: Date, from: StepStatus, to: StepStatus)] = []
        var nonOKSeconds: Double = 0
        var failingSince: Date?
        var longestFailure: Double = 0
        var values: [Double] = []
    }

    public let plan: WatchPlan
    public let startedAt: Date
    public private(set) var iterations = 0
    private var order: [String] = []
    private var tracks: [String: Track] = [:]

    public init(plan: WatchPlan, startedAt: Date = Date()) {
        self.plan = plan
        self.startedAt = startedAt
    }

    /// Adds one iteration that started at `at`. The previous state of each step is taken to have held
    /// until now: that is all a poll can know.
    public mutating func add(_ report: RunReport, at: Date) {
        iterations += 1
        for result in report.results {
            guard var track = tracks[result.id] else {
                order.append(result.id)
                var track = Track(first: result, last: result, lastAt: at, worst: result.status)
                track.runs = 1
                if result.status.isFailure { track.failingSince = at }
                if let value = result.metrics.first?.value { track.values.append(value) }
                tracks[result.id] = track
                continue
            }
            Self.close(&track, until: at)
            if result.status != track.last.status && result.status != .skipped && track.last.status != .skipped {
                track.transitions.append((at, track.last.status, result.status))
            }
            if result.status.isFailure && track.failingSince == nil { track.failingSince = at }
            if !result.status.isFailure, let since = track.failingSince {
                track.longestFailure = max(track.longestFailure, at.timeIntervalSince(since))
                track.failingSince = nil
            }
            track.worst = StepStatus.worst([track.worst, result.status])
            track.last = result
            track.lastAt = at
            track.runs += 1
            if let value = result.metrics.first?.value { track.values = Array((track.values + [value]).suffix(60)) }
            tracks[result.id] = track
        }
    }

    private static func close(_ track: inout Track, until end: Date) {
        let span = max(end.timeIntervalSince(track.lastAt), 0)
        if track.last.status != .ok && track.last.status != .skipped { track.nonOKSeconds += span }
    }

    /// Whether the latest iteration was entirely ok (for `--until-ok`).
    public var lastAllOK: Bool {
        iterations > 0 && tracks.values.allSatisfy { $0.last.status == .ok || $0.last.status == .skipped }
    }

    /// Whether the latest iteration had a failing step (for `--until-fail`).
    public var lastAnyFailing: Bool { tracks.values.contains { $0.last.status.isFailure } }

    /// The one report of the watch, ending at `end`.
    public func report(runID: String, runbook: String, environment: String?, end: Date, aborted: String?) -> RunReport {
        var results: [StepResult] = order.compactMap { id in
            guard var track = tracks[id] else { return nil }
            Self.close(&track, until: end)
            if let since = track.failingSince { track.longestFailure = max(track.longestFailure, end.timeIntervalSince(since)) }
            return result(track)
        }
        if plan.untilOK && !lastAllOK && aborted == nil {
            results.append(StepResult(id: "watch", title: "became ok within the watch", kind: "watch", status: .fail,
                                      message: "not every step was ok by the end of the \(DurationText.format(milliseconds: plan.duration * 1000)) watch (--until-ok)"))
        }
        return RunReport(runID: runID, runbook: runbook, environment: environment, startedAt: startedAt,
                         durationMs: end.timeIntervalSince(startedAt) * 1000, results: results, aborted: aborted)
    }

    func result(_ t: Track) -> StepResult {
        // A failure shorter than --tolerate is remembered as a warning, not lost.
        let failedTooLong = t.worst.isFailure && t.longestFailure > plan.tolerate
        let status: StepStatus = t.worst.isFailure && !failedTooLong ? .warn : t.worst
        let path = ([t.first.status] + t.transitions.map(\.to)).map(\.rawValue).joined(separator: "→")
        var message = "\(path) over \(t.runs) run(s)"
        if t.nonOKSeconds > 0 { message += "; not ok for \(DurationText.format(milliseconds: t.nonOKSeconds * 1000))" }
        if t.longestFailure > 0 {
            message += "; longest failure \(DurationText.format(milliseconds: t.longestFailure * 1000))"
            if !failedTooLong { message += " (within --tolerate \(DurationText.format(milliseconds: plan.tolerate * 1000)))" }
        }
        message += "; last: \(t.last.message)"
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var details = t.last.details
        details["watch"] = .object([
            "runs": .int(t.runs), "worst": .string(t.worst.rawValue), "last_status": .string(t.last.status.rawValue),
            "non_ok_ms": .double((t.nonOKSeconds * 1000).rounded()), "longest_failure_ms": .double((t.longestFailure * 1000).rounded()),
            "transitions": .array(t.transitions.map { .object(["at": .string(f.string(from: $0.at)), "from": .string($0.from.rawValue), "to": .string($0.to.rawValue)]) }),
        ])
        let metrics = t.last.metrics + [Metric(name: "non_ok", value: t.nonOKSeconds, unit: "s", min: 0),
                                        Metric(name: "transitions", value: Double(t.transitions.count), unit: "count", min: 0)]
        return StepResult(id: t.last.id, title: t.last.title, kind: t.last.kind, status: status, message: message,
                          details: details, metrics: metrics, startedAt: t.first.startedAt, durationMs: t.last.durationMs,
                          attempts: t.last.attempts, remediation: status.isFailure || status == .warn ? t.last.remediation : nil)
    }

    /// The live screen: one line per step with its state, flap count and a sparkline of its main metric.
    public func screen(title: String, now: Date) -> String {
        let elapsed = DurationText.format(milliseconds: now.timeIntervalSince(startedAt) * 1000)
        var lines = ["\(title) — \(elapsed) of \(DurationText.format(milliseconds: plan.duration * 1000)), run \(iterations), every \(DurationText.format(milliseconds: plan.every * 1000))", ""]
        let width = order.map(\.count).max() ?? 0
        for id in order {
            guard let t = tracks[id] else { continue }
            let state = t.last.status.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)
            let flaps = "flaps \(t.transitions.count)".padding(toLength: 9, withPad: " ", startingAt: 0)
            let value = t.last.metrics.first.map { " \(Self.number($0.value))\($0.unit.map { " " + $0 } ?? "")" } ?? ""
            lines.append("\(state) \(id.padding(toLength: width, withPad: " ", startingAt: 0))  \(flaps) \(Self.sparkline(t.values))\(value)")
        }
        return lines.joined(separator: "\n")
    }

    static func sparkline(_ values: [Double]) -> String {
        let bars = Array("▁▂▃▄▅▆▇█")
        let shown = values.suffix(30)
        guard let low = shown.min(), let high = shown.max() else { return "" }
        return String(shown.map { high == low ? bars[0] : bars[Int((($0 - low) / (high - low) * Double(bars.count - 1)).rounded())] })
    }

    static func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e12 ? String(Int(v)) : String(format: "%.1f", v) }
}
