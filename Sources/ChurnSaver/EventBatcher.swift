import Foundation
import Postgres

/// Group commit for webhook events. A request whose event finds the database idle is processed at
/// once (a batch of one: no added latency); events arriving while `lanes` batches are in flight wait
/// and go together in the next one: one round trip and one commit for up to `maxBatch` events.
/// Each event keeps its own subtransaction and its own outcome (`EventProcessor`).
final class EventBatcher: @unchecked Sendable {
    typealias Outcome = EventProcessor.Outcome
    private struct Waiting {
        var event: IncomingEvent
        var injectFailure: Bool
        var continuation: CheckedContinuation<Outcome, any Error>
    }

    private let pool: DatabasePool
    private let processor = EventProcessor()
    private let lanes: Int
    private let maxBatch: Int
    private let lock = NSLock()
    private var queue: [Waiting] = []
    private var running = 0

    init(pool: DatabasePool, lanes: Int, maxBatch: Int = 64) {
        self.pool = pool
        self.lanes = max(1, lanes)
        self.maxBatch = max(1, maxBatch)
    }

    /// The event's outcome once its batch committed; throws when the batch could not run (database down).
    func process(_ event: IncomingEvent, injectFailure: Bool) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let startLane = lock.withLock { () -> Bool in
                queue.append(Waiting(event: event, injectFailure: injectFailure, continuation: continuation))
                guard running < lanes else { return false }
                running += 1
                return true
            }
            if startLane { Task { await self.drain() } }
        }
    }

    /// One lane: takes what is queued, processes it, and goes on until the queue is empty.
    private func drain() async {
        while true {
            let batch = lock.withLock { () -> [Waiting] in
                let taken = Array(queue.prefix(maxBatch))
                queue.removeFirst(taken.count)
                if taken.isEmpty { running -= 1 }
                return taken
            }
            guard !batch.isEmpty else { return }
            let processor = self.processor
            let items = batch.map { (event: $0.event, injectFailure: $0.injectFailure) }
            do {
                let outcomes = try await pool.run { connection in try processor.process(items, on: connection) }
                for (waiting, outcome) in zip(batch, outcomes) { waiting.continuation.resume(returning: outcome) }
            } catch {
                for waiting in batch { waiting.continuation.resume(throwing: error) }
            }
        }
    }
}
