import Checks
import Foundation

/// One line of `--format jsonl`. Every line carries `event`, `ts` and `run_id` so a log
/// pipeline can group lines without keeping state.
public struct ReportEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case runStarted = "run_started", stepStarted = "step_started"
        case stepFinished = "step_finished", runFinished = "run_finished" }

    /// Counts per status plus `total`, in `run_finished`.
    public struct Summary: Codable, Sendable, Equatable {
        public var ok = 0, warn = 0, fail = 0, error = 0, skipped = 0, total = 0
    }

    public var event: Kind
    public var ts: Date
    public var runID: String
    public var runbook: String?
    public var environment: String?
    /// step_started: the step about to run.
    public var step: String?
    public var title: String?
    public var kind: String?
    /// step_finished: the full result.
    public var result: StepResult?
    /// run_finished: overall status, counts, duration, abort reason.
    public var status: StepStatus?
    public var summary: Summary?
    public var durationMs: Double?
    public var aborted: String?
    public var dryRun: Bool?

    enum CodingKeys: String, CodingKey {
        case event, ts, runID = "run_id", runbook, environment, step, title, kind, result, status, summary
        case durationMs = "duration_ms", aborted, dryRun = "dry_run"
    }

    init(_ event: Kind, ts: Date, runID: String) {
        self.event = event
        self.ts = ts
        self.runID = runID
    }
}

/// `--format jsonl`: one JSON object per line, written as steps start and finish.
public final class JSONLinesReporter: Reporter, @unchecked Sendable {
    public let options: ReporterOptions
    private let clock: @Sendable () -> Date
    private let lock = NSLock()
    private var runID = ""

    public init(options: ReporterOptions = ReporterOptions(), clock: @escaping @Sendable () -> Date = { Date() }) {
        self.options = options
        self.clock = clock
    }

    public var isStreaming: Bool { true }

    public func runStarted(runbook: String, environment: String?, runID: String, sink: ReportSink) {
        lock.withLock { self.runID = runID }
        sink(line(started(runbook: runbook, environment: environment, runID: runID, at: clock())))
    }

    public func stepStarted(id: String, title: String, kind: String, sink: ReportSink) {
        var event = ReportEvent(.stepStarted, ts: clock(), runID: lock.withLock { runID })
        event.step = id
        event.title = title
        event.kind = kind
        sink(line(event))
    }

    public func stepFinished(_ result: StepResult, sink: ReportSink) {
        var event = ReportEvent(.stepFinished, ts: clock(), runID: lock.withLock { runID })
        event.result = result
        sink(line(event))
    }

    public func runFinished(_ report: RunReport, sink: ReportSink) {
        sink(line(finished(report, at: clock())))
    }

    /// The events of a finished run replayed in order, with timestamps taken from the report.
    public func render(_ report: RunReport) -> String {
        var lines = [line(started(runbook: report.runbook, environment: report.environment, runID: report.runID,
                                  at: report.startedAt))]
        for result in report.results {
            var start = ReportEvent(.stepStarted, ts: result.startedAt, runID: report.runID)
            start.step = result.id
            start.title = result.title
            start.kind = result.kind
            lines.append(line(start))
            var finish = ReportEvent(.stepFinished, ts: result.startedAt.addingTimeInterval(result.durationMs / 1000),
                                     runID: report.runID)
            finish.result = result
            lines.append(line(finish))
        }
        lines.append(line(finished(report, at: report.startedAt.addingTimeInterval(report.durationMs / 1000))))
        return lines.joined()
    }

    private func started(runbook: String, environment: String?, runID: String, at date: Date) -> ReportEvent {
        var event = ReportEvent(.runStarted, ts: date, runID: runID)
        event.runbook = runbook
        event.environment = environment
        return event
    }

    private func finished(_ report: RunReport, at date: Date) -> ReportEvent {
        var event = ReportEvent(.runFinished, ts: date, runID: report.runID)
        event.runbook = report.runbook
        event.environment = report.environment
        event.status = report.status
        var summary = ReportEvent.Summary()
        summary.ok = report.count(.ok)
        summary.warn = report.count(.warn)
        summary.fail = report.count(.fail)
        summary.error = report.count(.error)
        summary.skipped = report.count(.skipped)
        summary.total = report.results.count
        event.summary = summary
        event.durationMs = report.durationMs
        event.aborted = report.aborted
        event.dryRun = report.dryRun
        return event
    }

    /// Masks every string of the event, then encodes it compactly (JSON never contains a raw newline).
    private func line(_ event: ReportEvent) -> String {
        let m = options.masker
        var e = event
        e.runID = m.mask(e.runID)
        e.runbook = e.runbook.map(m.mask)
        e.environment = e.environment.map(m.mask)
        e.step = e.step.map(m.mask)
        e.title = e.title.map(m.mask)
        e.kind = e.kind.map(m.mask)
        e.result = e.result?.masked(by: m)
        e.aborted = e.aborted.map(m.mask)
        return ReportJSON.text(e, pretty: false) + "\n"
    }
}
