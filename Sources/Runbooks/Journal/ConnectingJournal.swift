import Checks
import Foundation
import Support

/// The journal while its database connection is being made: `open` runs on a thread of its own as
/// soon as the environment is known, so the connection (a backend start on the server, a few round
/// trips) overlaps loading the runbook and the run's first steps instead of coming before them. The
/// run does not wait for it: what the run tells the journal (the lock it asks for, the run and step
/// rows) is passed on in order, on a queue of its own, once `open` has returned; a call that answers
/// (history, report, runFinished, release) waits for that and for everything told before it. A mutating
/// step still starts only once the runbook lock is held, which needs the connection.
public final class ConnectingJournal: RunJournal, @unchecked Sendable {
    /// Signalled once `journal` is set; every wait signals it again, so it stays open for the next.
    private let opened = DispatchSemaphore(value: 0)
    private var journal: RunJournal?
    /// Passes calls on in the order they were made (each waits for `open` first).
    private let calls = DispatchQueue(label: "opsctl.journal.connecting")

    public init(_ open: @escaping @Sendable () -> RunJournal) {
        let thread = Thread { [self] in
            journal = open()
            PhaseClock.mark("journal connected")
            opened.signal()
        }
        thread.name = "opsctl.journal.connect"
        thread.start()
    }

    /// The journal `open` returned, once it has (the Postgres journal, or the file when the database is unreachable).
    private var resolved: RunJournal {
        opened.wait()
        opened.signal()
        return journal!
    }

    /// The journal, after every call made before this one was passed on to it.
    private var inOrder: RunJournal { calls.sync { resolved } }

    public var location: String { resolved.location }

    public func acquireLock(name: String, wait: Double?) -> String? { inOrder.acquireLock(name: name, wait: wait) }

    public func acquireLock(name: String, wait: Double?, settled: @escaping @Sendable (String?) -> Void) {
        calls.async { [self] in resolved.acquireLock(name: name, wait: wait, settled: settled) }
    }

    public func runStarted(runID: String, runbook: Runbook, options: RunOptions) {
        calls.async { [self] in resolved.runStarted(runID: runID, runbook: runbook, options: options) }
    }

    public func stepFinished(runID: String, position: Int, result: StepResult) {
        calls.async { [self] in resolved.stepFinished(runID: runID, position: position, result: result) }
    }

    public func runFinished(_ report: RunReport) { inOrder.runFinished(report) }
    public func release(runID: String) { inOrder.release(runID: runID) }
    public func history(runbook: String?, limit: Int) throws -> [RunSummary] { try inOrder.history(runbook: runbook, limit: limit) }
    public func report(runID: String) throws -> RunReport? { try inOrder.report(runID: runID) }
    public func params(runID: String) throws -> [String: JSONValue]? { try inOrder.params(runID: runID) }
}
