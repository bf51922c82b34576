import Checks
import Foundation
import Support

/// The journal while its database connection is being made: `open` runs on a thread of its own as
/// soon as the environment is known, so the connection (a backend start on the server, a few round
/// trips) overlaps loading the runbook instead of coming after it. Every call waits for the journal
/// `open` returned; the run calls `waitUntilOpen()` before its first step, so recording calls find it
/// open and never wait.
public final class ConnectingJournal: RunJournal, @unchecked Sendable {
    /// Signalled once `journal` is set; every wait signals it again, so it stays open for the next.
    private let opened = DispatchSemaphore(value: 0)
    private var journal: RunJournal?

    public init(_ open: @escaping @Sendable () -> RunJournal) {
        let thread = Thread { [self] in
            journal = open()
            opened.signal()
        }
        thread.start()
    }

    /// The journal `open` returned, once it has (the Postgres journal, or the file when the database is unreachable).
    private var resolved: RunJournal {
        opened.wait()
        opened.signal()
        return journal!
    }

    /// Waits until the journal is open: its schema exists before any step runs (steps such as replay
    /// create their own tables in it, and two concurrent `CREATE SCHEMA IF NOT EXISTS` can fail).
    public func waitUntilOpen() { _ = resolved }

    public var location: String { resolved.location }

    public func acquireLock(name: String, wait: Double?) -> String? { resolved.acquireLock(name: name, wait: wait) }

    public func acquireLock(name: String, wait: Double?, settled: @escaping @Sendable (String?) -> Void) {
        resolved.acquireLock(name: name, wait: wait, settled: settled)
    }

    public func runStarted(runID: String, runbook: Runbook, options: RunOptions) {
        resolved.runStarted(runID: runID, runbook: runbook, options: options)
    }

    public func stepFinished(runID: String, position: Int, result: StepResult) {
        resolved.stepFinished(runID: runID, position: position, result: result)
    }

    public func runFinished(_ report: RunReport) { resolved.runFinished(report) }
    public func release(runID: String) { resolved.release(runID: runID) }
    public func history(runbook: String?, limit: Int) throws -> [RunSummary] { try resolved.history(runbook: runbook, limit: limit) }
    public func report(runID: String) throws -> RunReport? { try resolved.report(runID: runID) }
    public func params(runID: String) throws -> [String: JSONValue]? { try resolved.params(runID: runID) }
}
