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

    /// Waits until the journal is open: its schema exists before any step runs (steps such as replay
    /// create their own tables in it, and two concurrent `CREATE SCHEMA IF NOT EXISTS` can fail).
    public func waitUntilOpen() { _ = resolved }

    public var location: String { resolved.location }

    public func acquireLock(name: String, wait: Double?) -> String? { resolved.acquireLock(name: name, wait: wait) }

    public func acquireLock(name: String, wait: Double?, settled: @escaping @Sendable (String?) -> Void) {
        record { $0.acquireLock(name: name, wait: wait, settled: settled) }
    }

    public func runStarted(runID: String, runbook: Runbook, options: RunOptions) {
        record { $0.runStarted(runID: runID, runbook: runbook, options: options) }
    }

    public func stepFinished(runID: String, position: Int, result: StepResult) {
        record { $0.stepFinished(runID: runID, position: position, result: result) }
    }

    private let modeLock = NSLock()
    /// Decided at the first recording call: connected by then (the usual case: the runbook took longer
    /// to load), every call goes straight to the journal, without a hop through the queue per step;
    /// otherwise every call goes through the queue, so the order is kept either way.
    private var direct: Bool?

    private func record(_ call: @escaping @Sendable (RunJournal) -> Void) {
        let now: RunJournal? = modeLock.withLock {
            if direct == nil {
                direct = opened.wait(timeout: .now()) == .success
                if direct == true { opened.signal() }
            }
            return direct == true ? journal : nil
        }
        if let now { call(now) } else { queue.async { [self] in call(journal!) } }
    }

    public func runFinished(_ report: RunReport) { resolved.runFinished(report) }
    public func release(runID: String) { resolved.release(runID: runID) }
    public func history(runbook: String?, limit: Int) throws -> [RunSummary] { try resolved.history(runbook: runbook, limit: limit) }
    public func report(runID: String) throws -> RunReport? { try resolved.report(runID: runID) }
    public func params(runID: String) throws -> [String: JSONValue]? { try resolved.params(runID: runID) }
}
