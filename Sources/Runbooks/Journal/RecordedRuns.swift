import Checks
import Foundation

/// The journaled runs a `baseline: run:<id>` or `last-ok` step compares with: runs of the same
/// runbook in the same environment. It reads through its own journal, opened on first use, so a
/// step's lookup never shares the connection the running journal writes on.
public final class RecordedRuns: @unchecked Sendable {
    let runbook: String
    let environment: String
    private let open: @Sendable () -> RunJournal?
    private let lock = NSLock()
    private var journal: RunJournal??
    private var cache: [String: RecordedRun?] = [:]

    public init(runbook: String, environment: String, open: @escaping @Sendable () -> RunJournal?) {
        self.runbook = runbook
        self.environment = environment
        self.open = open
    }

    /// The run `selector` names, or nil when the journal has none (not an error: the step reports "no baseline").
    public func lookup(_ selector: BaselineSource) throws -> RecordedRun? {
        try lock.withLock {
            let key = selector.description
            if let cached = cache[key] { return cached }
            if journal == nil { journal = .some(open()) }
            guard let journal = journal ?? nil else { return nil }
            let found: RecordedRun?
            switch selector {
            case let .run(id):
                found = try journal.report(runID: id).map { RecordedRun(runID: $0.runID, results: $0.results) }
            case .lastOK:
                found = try lastOK(journal)
            default:
                found = nil
            }
            cache[key] = found
            return found
        }
    }

    /// The newest finished, non-dry run of this runbook and environment whose status was ok.
    func lastOK(_ journal: RunJournal) throws -> RecordedRun? {
        let candidates = try journal.history(runbook: runbook, limit: 200)
            .filter { $0.environment == environment && $0.status == "ok" && !$0.dryRun }
            .sorted { $0.startedAt > $1.startedAt }
        guard let newest = candidates.first, let report = try journal.report(runID: newest.runID) else { return nil }
        return RecordedRun(runID: report.runID, results: report.results)
    }
}
