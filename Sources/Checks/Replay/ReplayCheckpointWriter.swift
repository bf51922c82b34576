import Foundation
import Postgres

/// Writes batches of outcomes (ReplayStore.record) on a connection and thread of its own, so the send
/// loop never waits for a checkpoint's UPDATE (2–3 ms per 200 events, 25 times a second), and so an
/// interrupt, which cancels the statement running on each of the step's connections, cannot lose a
/// batch: a cancelled batch is written once more (anInterruptedReplayRecordsEveryAnsweredEventBeforeItExits).
/// It was built on the guess that those waits made the service commit in smaller groups than under wrk
/// (1,116–1,308 against 641–696 transactions per 10,000 events); measured, it did not change the group
/// count or the CPU per event beyond the run-to-run spread, so the guess stays unconfirmed.
///
/// The guarantees stay those of the synchronous write: an outcome is recorded only after its response
/// came, and a block is let go (by the caller, on the session holding its advisory lock) only once every
/// outcome of it is committed (`takeRecorded`), so a worker that locks it next reads them as recorded.
/// Outcomes submitted but not yet committed when the process is killed are sent again on resume, as
/// those waiting for the next batch were before (the service answers them `duplicate`).
final class ReplayCheckpointWriter: @unchecked Sendable {
    private let connection: PostgresConnection
    private let store: ReplayStore
    private let replayID: String
    private let worker: String
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [(outcomes: [ReplayOutcome], blocks: [Int])] = []
    private var writing = false
    private var recorded: [Int] = []
    private var failure: Error?
    private var closing = false
    private var stopped = false

    /// Batches submitted and not yet written beyond which `submit` waits (bounds memory and what a kill
    /// -9 sends again).
    static let maxQueued = 4

    init(connection: PostgresConnection, replayID: String, worker: String) {
        self.connection = connection
        self.store = ReplayStore(db: connection)
        self.replayID = replayID
        self.worker = worker
        let thread = Thread { [self] in work() }
        thread.name = "opsctl-replay-checkpoint"
        thread.start()
    }

    /// Queues a batch; `blocks` holds the block of each outcome (one entry per outcome).
    func submit(_ outcomes: [ReplayOutcome], blocks: [Int]) throws {
        try condition.withLock {
            while failure == nil && queue.count >= Self.maxQueued { condition.wait() }
            if let failure { throw failure }
            queue.append((outcomes, blocks))
            condition.broadcast()
        }
    }

    /// The blocks of the outcomes committed since the last call (one entry per outcome); throws the
    /// write's error once one failed.
    func takeRecorded() throws -> [Int] {
        try condition.withLock {
            if let failure { throw failure }
            defer { recorded.removeAll(keepingCapacity: true) }
            return recorded
        }
    }

    /// Waits until every batch submitted is committed, then `takeRecorded`.
    func waitWritten() throws -> [Int] {
        condition.withLock {
            while failure == nil && (writing || !queue.isEmpty) { condition.wait() }
        }
        return try takeRecorded()
    }

    /// Stops the thread once the batches queued are written (or failed), then closes the connection.
    func close() {
        condition.withLock {
            closing = true
            condition.broadcast()
            while !stopped { condition.wait() }
        }
        connection.close()
    }

    private func work() {
        while true {
            let next: (outcomes: [ReplayOutcome], blocks: [Int])? = condition.withLock {
                while queue.isEmpty && !closing { condition.wait() }
                guard failure == nil, !queue.isEmpty else {
                    stopped = true
                    condition.broadcast()
                    return nil
                }
                writing = true
                return queue.removeFirst()
            }
            guard let next else { return }
            var error: Error?
            // Once more on failure: an interrupt cancels the statement running on this connection too,
            // and the outcomes of requests already answered must still be recorded.
            for _ in 0..<2 {
                do {
                    try store.record(id: replayID, worker: worker, next.outcomes)
                    error = nil
                    break
                } catch let e {
                    error = e
                }
            }
            condition.withLock {
                writing = false
                if let error { failure = error } else { recorded += next.blocks }
                condition.broadcast()
            }
        }
    }
}
