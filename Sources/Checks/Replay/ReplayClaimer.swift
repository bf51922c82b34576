import Foundation
import Postgres
import Support

/// Claims a replay's next blocks (ReplayStore.claim) and lets blocks go (ReplayStore.unlock) on a
/// thread of its own, so the send loop never waits for the database: it asks for the next blocks
/// while half of its queue is still to send, and takes them, already claimed, when the queue runs
/// dry. Claiming inline cost 3–4 queries (1–5 ms under load) every 512 events, during which no
/// request started and those in flight drained; the service then saw fewer concurrent requests and
/// committed them in smaller groups, which cost it and Postgres more per event.
///
/// Block locks are advisory locks of a database session: the session that locked a block must be
/// the one that unlocks it. So this thread does every claim and every unlock of the send loop on one
/// connection, the step's store connection (which also locked the first blocks of a replay being
/// created, before this starts), and nothing else uses that connection until `close` hands it back.
/// It knows exactly which blocks that session holds (`sessionHeld`: locked and not yet unlocked, all
/// by this thread or handed over at start), which a claim must skip (advisory locks are reentrant).
/// Unlocks are queued and done before the next claim; a block is queued for unlocking only once every
/// outcome of it is committed (ReplayDelivery.release), so a worker locking it next reads them recorded.
final class ReplayClaimer: @unchecked Sendable {
    private let store: ReplayStore
    private let replayID: String
    private let blocksPerClaim: Int
    /// A replay being created: claims wait until its items are committed.
    private let creation: ReplayCreation?
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var asked = false
    private var ready: (blocks: [Int], events: [ReplayEvent]) = ([], [])
    /// A claim found no pending event left to claim.
    private var exhausted = false
    private var toUnlock: [Int] = []
    /// The lowest seq of blocks given back unsent: the next claim looks from there (ReplayStore.claim
    /// skips the blocks this session holds without reading them, so their events are behind its `from`).
    private var rewind: Int?
    private var failure: Error?
    private var closing = false
    private var stopped = false
    // Owned by the thread (and by `close`'s caller once it stopped).
    private var sessionHeld: Set<Int>
    private var claimFrom = 0

    /// `held`: the blocks the store's session already holds (a new replay's first blocks).
    init(store: ReplayStore, replayID: String, blocksPerClaim: Int, creation: ReplayCreation?, held: Set<Int>) {
        self.store = store
        self.replayID = replayID
        self.blocksPerClaim = blocksPerClaim
        self.creation = creation
        self.sessionHeld = held
        let thread = Thread { [self] in work() }
        thread.name = "opsctl-replay-claim"
        thread.start()
    }

    /// Asks for the next blocks without waiting (taken by `take`); a no-op while a claim is asked for
    /// or its events are not taken yet.
    func ask() {
        condition.withLock {
            guard !asked, ready.events.isEmpty, !exhausted else { return }
            asked = true
            condition.broadcast()
        }
    }

    /// The blocks and events claimed since the last call, asking for them and waiting if none are
    /// ready (nil without `wait`); `done` once a claim found nothing left. Throws the claim's error
    /// once one failed.
    func take(wait: Bool = true) throws -> (blocks: [Int], events: [ReplayEvent], done: Bool)? {
        try condition.withLock {
            if ready.events.isEmpty && !exhausted && failure == nil && !asked {
                asked = true
                condition.broadcast()
            }
            if !wait && ready.events.isEmpty && !exhausted && failure == nil { return nil }
            while ready.events.isEmpty && !exhausted && failure == nil && !stopped { condition.wait() }
            if let failure { throw failure }
            defer { ready = ([], []) }
            return (ready.blocks, ready.events, exhausted && ready.events.isEmpty)
        }
    }

    /// Queues blocks to let go (done before the next claim, without the caller waiting).
    func unlock(_ blocks: [Int]) {
        guard !blocks.isEmpty else { return }
        condition.withLock {
            toUnlock += blocks
            condition.broadcast()
        }
    }

    /// Queues blocks whose events are still pending (not sent by this worker) to let go: the next claim,
    /// by any worker, may take them again.
    func giveBack(_ blocks: [Int]) {
        guard let first = blocks.min() else { return }
        condition.withLock {
            toUnlock += blocks
            rewind = min(rewind ?? Int.max, first * ReplayStore.blockSize)
            condition.broadcast()
        }
    }

    /// Does the unlocks queued, gives back the blocks claimed and not taken, and stops: the store's
    /// connection is the caller's again. A failure there is not thrown: the blocks go with the session.
    func close() {
        condition.withLock {
            closing = true
            condition.broadcast()
            while !stopped { condition.wait() }
        }
    }

    private func work() {
        while true {
            let (unlocks, from, claim, leaving): ([Int], Int?, Bool, Bool) = condition.withLock {
                while toUnlock.isEmpty && !(asked && failure == nil) && !closing { condition.wait() }
                defer {
                    toUnlock.removeAll(keepingCapacity: true)
                    rewind = nil
                }
                return (toUnlock, rewind, asked && failure == nil && !closing, closing)
            }
            do {
                if !unlocks.isEmpty {
                    try store.unlock(id: replayID, blocks: unlocks)
                    sessionHeld.subtract(unlocks)
                }
                if let from { claimFrom = min(claimFrom, from) }
                if claim {
                    let claimed = try claimNext()
                    condition.withLock {
                        ready.blocks += claimed.blocks
                        ready.events += claimed.events
                        if claimed.events.isEmpty { exhausted = true }
                        asked = false
                        condition.broadcast()
                    }
                }
            } catch {
                condition.withLock {
                    if failure == nil { failure = error }
                    asked = false
                    condition.broadcast()
                }
            }
            if leaving {
                // Claimed, never taken: still pending, back to the other workers.
                let untaken = condition.withLock { () -> [Int] in
                    defer { ready = ([], []) }
                    return ready.blocks
                }
                _ = try? store.unlock(id: replayID, blocks: untaken)
                condition.withLock {
                    stopped = true
                    condition.broadcast()
                }
                return
            }
        }
    }

    private func claimNext() throws -> (blocks: [Int], events: [ReplayEvent]) {
        // Claims read committed items only.
        if let creation, !creation.isCommitted {
            PhaseClock.mark("replay claim waits for the replay's commit")
            try creation.waitCommitted()
        }
        PhaseClock.mark("replay claim starts")
        defer { PhaseClock.mark("replay claim done (\(sessionHeld.count) blocks held)") }
        let (blocks, events, next) = try store.claim(id: replayID, blocks: blocksPerClaim, held: sessionHeld, from: claimFrom)
        claimFrom = next
        sessionHeld.formUnion(blocks)
        return (blocks, events)
    }
}
