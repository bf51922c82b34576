import ArgumentParser
import Checks
import Foundation
import Runbooks
import Support

/// Stops a watch from the signal queue: interrupts the run in flight and wakes the pause between runs.
final class WatchStop: @unchecked Sendable {
    private let lock = NSLock()
    private let wake = DispatchSemaphore(value: 0)
    private var executor: Executor?
    private var why: String?

    var reason: String? { lock.withLock { why } }

    func running(_ executor: Executor?) { lock.withLock { self.executor = executor } }

    func interrupt(_ reason: String) {
        let current: Executor? = lock.withLock {
            if why == nil { why = reason }
            return executor
        }
        current?.interrupt(reason: reason)
        wake.signal()
    }

    /// Waits until `date`; true when interrupted meanwhile.
    func sleep(until date: Date) -> Bool {
        let seconds = date.timeIntervalSinceNow
        if seconds > 0 { _ = wake.wait(timeout: .now() + seconds) }
        return reason != nil
    }
}

extension RunService {
    /// `--watch`: the runbook again every `plan.every` until `plan.duration` has passed (or a stop
    /// condition), a live screen on a TTY, one report at the end, journaled as one run.
    func runWatch(_ plan: WatchPlan, runbook: Runbook, options: RunOptions, format: OutputFormat,
                  reporter: any Reporter, writer: ReportWriter, journal: RunJournal?) throws -> Never {
        let runID = Executor.newRunID()
        var summary = WatchSummary(plan: plan)
        let end = summary.startedAt.addingTimeInterval(plan.duration)
        let stop = WatchStop()
        let signals = SignalTrap { stop.interrupt("interrupted by \($0)") }
        let live = Terminal.stderrIsTTY
        let title = "watching \(runbook.name) on \(options.environment.name)"
        while true {
            let at = Date()
            // JSONL streams every run's events; the other formats report once, at the end.
            let executor = Executor(runbook: runbook, options: options, reporter: format == .jsonl ? reporter : nil,
                                    sink: writer.sink, journal: nil)
            stop.running(executor)
            let report = executor.run()
            stop.running(nil)
            if stop.reason != nil { break }
            summary.add(report, at: at)
            if format == .prometheus, let output = global.output {
                // The textfile collector always sees the latest state, replaced atomically.
                try? ReportWriter(output: output).write(reporter.render(report))
            }
            if live { Terminal.note("\u{1B}[H\u{1B}[2J" + SecretMasker.shared.mask(summary.screen(title: title, now: Date()))) }
            if plan.untilOK && summary.lastAllOK { break }
            if plan.untilFail && summary.lastAnyFailing { break }
            let next = at.addingTimeInterval(plan.every)
            if next >= end || stop.sleep(until: next) { break }
        }
        signals.cancel()
        let final = summary.report(runID: runID, runbook: runbook.name, environment: options.environment.name,
                                   end: Date(), aborted: stop.reason)
        if let journal {
            journal.runStarted(runID: runID, runbook: runbook, options: options)
            for (position, result) in final.results.enumerated() { journal.stepFinished(runID: runID, position: position, result: result) }
            journal.runFinished(final)
            journal.release(runID: runID)
        }
        reporter.runFinished(final, sink: writer.sink)
        do { try writer.finish() } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        notify(final, journal: journal)
        if let aborted = final.aborted, format != .human { Terminal.error(SecretMasker.shared.mask(aborted)) }
        throw ExitCode(format.exitCode(for: final, strict: global.strict))
    }
}
