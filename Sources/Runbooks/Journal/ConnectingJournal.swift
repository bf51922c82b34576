import Checks
import Foundation
import Support

/// The journal while its database connection is being made: `open` runs on a thread of its own as
/// soon as the environment is known, so the connection (a backend start on the server, a few round
/// trips) overlaps loading the runbook instead of coming after it. Calls that only record (the lock,
/// the run row, step rows) are queued in order without waiting for it; the ones that answer
/// (history, report, params, the run's end) wait for the journal `open` returned.
public final class ConnectingJournal: RunJournal, @unchecked Sendable {
    private let opened = DispatchSemaphore(value: 0)
    private var journal: RunJournal?
    /// Recording calls in the order they were made, each waiting for the connection first.
    private let queue = DispatchQueue(label: "opsctl.journal.connecting")

    public init(_ open: @escaping @Sendable () -> RunJournal) {
        let thread = Thread { [self] in
            journal = open()
            opened.signal()
        }
        thread.start()
        queue.async { [self] in wait() }
    }

    /// The journal `open` returned, once it has (the Postgres journal, or the file when the database is unreachable).
    private func wait() {
        opened.wait()
        opened.signal()
    }

    private var resolved: RunJournal {
        queue.sync {}
        return journal!
    }

    public var location: String { resolved.location }

    public func acquireLock(name: String, wait: Double?) -> String? { resolved.acquireLock(name: name, wait: wait) }

    public func acquireLock(name: String, wait: Double?, settled: @escaping @Sendable (String?) -> Void) {
        queue.async { [self] in journal!.acquireLock(name: name, wait: wait, settled: settled) }
    }

    public func runStarted(runID: String, runbook: Runbook, options: RunOptions) {
        queue.async { [self] in journal!.runStarted(runID: runID, runbook: runbook, options: options) }
    }

    public func stepFinished(runID: String, position: Int, result: StepResult) {
        queue.async { [self] in journal!.stepFinished(runID: runID, position: position, result: result) }
    }

    public func runFinished(_ report: RunReport) { resolved.runFinished(report) }
    public func release(runID: String) { resolved.release(runID: runID) }
    public func history(runbook: String?, limit: Int) throws -> [RunSummary] { try resolved.history(runbook: runbook, limit: limit) }
    public func report(runID: String) throws -> RunReport? { try resolved.report(runID: runID) }
    public func params(runID: String) throws -> [String: JSONValue]? { try resolved.params(runID: runID) }
}
