import Foundation
import Postgres
import Testing
import TestSupport
@testable import Checks

/// The claimer claims a replay's blocks ahead of the send loop and lets them go, all on the store's
/// session: the advisory locks it takes and drops are that session's (pg_locks, seen from another
/// session), a second worker never gets a block it holds, and what it claimed and nobody took goes
/// back when it closes.
@Suite("Replay claimer", .enabled(if: TestDatabase.available), .serialized)
struct ReplayClaimerTests {
    static let replayID = "rp-claimer-test"

    /// A replay of `events` pending events (seq 1...events; block b holds seq 64b ..< 64(b+1)).
    func replay(events: Int) throws -> (url: String, store: ReplayStore, pid: Int) {
        let url = try TestDatabase.fresh("replay_claimer")
        let db = try PostgresConnection(dsn: url, applicationName: "replay-claimer-store")
        let store = ReplayStore(db: db)
        try store.ensureSchema()
        try store.create(id: Self.replayID, target: "http://127.0.0.1:1/hook", selection: "{}", createdBy: "test",
                         pace: ReplayPace(rate: 0, concurrency: 8))
        try store.insert(id: Self.replayID, (1...events).map { ReplayEvent(id: "evt_\($0)", type: "t", payload: "{\"n\":\($0)}") })
        let pid = try #require(try db.query("SELECT pg_backend_pid() AS pid").first?["pid"].int)
        return (url, store, pid)
    }

    /// The replay's blocks whose advisory lock session `pid` holds.
    func blocks(heldBy pid: Int, _ observer: PostgresConnection) throws -> Set<Int> {
        Set(try observer.query("""
            SELECT objid::int AS b FROM pg_locks
             WHERE locktype = 'advisory' AND objsubid = 2 AND granted AND pid = $1 AND classid::int = hashtext('opsctl:replay:' || $2)
            """, [pid, Self.replayID]).rows.compactMap { $0["b"].int })
    }

    @Test func blocksAreClaimedAheadAndLetGoOnTheStoresOwnSession() throws {
        let (url, store, pid) = try replay(events: 640)
        defer { store.db.close() }
        let observer = try PostgresConnection(dsn: url, applicationName: "replay-claimer-observer")
        defer { observer.close() }
        // Block 0 was locked before (a new replay's first block): the claimer skips it.
        #expect(try store.lock(id: Self.replayID, blocks: [0]) == [0])
        let claimer = ReplayClaimer(store: store, replayID: Self.replayID, blocksPerClaim: 2, creation: nil, held: [0])

        let first = try #require(try claimer.take())
        #expect(first.blocks == [1, 2])
        #expect(first.events.map(\.seq) == Array(64..<192), "every pending event of the blocks, in seq order")
        #expect(!first.done)
        #expect(try blocks(heldBy: pid, observer) == [0, 1, 2])

        // Asked ahead: claimed while nobody waits for it.
        claimer.ask()
        #expect(eventually(timeout: 30) { (try? blocks(heldBy: pid, observer)) == [0, 1, 2, 3, 4] })

        // Another worker never gets a block this session holds.
        let other = try PostgresConnection(dsn: url, applicationName: "replay-claimer-other")
        defer { other.close() }
        let theirs = try ReplayStore(db: other).claim(id: Self.replayID, blocks: 2, held: [])
        #expect(theirs.blocks == [5, 6])

        // Unlocks queued are done on the same session, before the next claim (a block is let go once
        // its events are recorded).
        try observer.execute("UPDATE opsctl.replay_items SET status = 'delivered' WHERE seq < 128")
        claimer.unlock([0, 1])
        // Taken without waiting once claimed (nil until then).
        var second: (blocks: [Int], events: [ReplayEvent], done: Bool)?
        #expect(try eventually(timeout: 30) {
            second = try claimer.take(wait: false)
            return second != nil
        })
        #expect(second?.blocks == [3, 4], "the blocks claimed ahead")
        #expect(eventually(timeout: 30) { (try? blocks(heldBy: pid, observer)) == [2, 3, 4] })

        // Claimed ahead and never taken: given back when the claimer closes.
        claimer.ask()
        #expect(eventually(timeout: 30) { (try? blocks(heldBy: pid, observer)) == [2, 3, 4, 7, 8] })
        claimer.close()
        #expect(try blocks(heldBy: pid, observer) == [2, 3, 4])
        // The connection is the caller's again.
        try store.unlock(id: Self.replayID, blocks: [2, 3, 4])
        #expect(try blocks(heldBy: pid, observer).isEmpty)
    }

    @Test func aClaimFindingNothingLeftSaysSo() throws {
        let (_, store, _) = try replay(events: 100)
        defer { store.db.close() }
        let claimer = ReplayClaimer(store: store, replayID: Self.replayID, blocksPerClaim: 8, creation: nil, held: [])
        defer { claimer.close() }
        let all = try #require(try claimer.take())
        #expect(all.blocks == [0, 1])
        #expect(all.events.count == 100)
        let none = try #require(try claimer.take())
        #expect(none.done && none.events.isEmpty)
        claimer.ask()  // nothing more is claimed once the replay is claimed
        #expect(try claimer.take(wait: false)?.done == true)
    }

    @Test func aClaimStartsPastTheBlocksItsSessionHolds() throws {
        let (_, store, _) = try replay(events: 640)
        defer { store.db.close() }
        #expect(try store.lock(id: Self.replayID, blocks: [0, 1, 2, 5]) == [0, 1, 2, 5])
        // The lowest pending event is in block 0, held: the claim looks from block 3 on, skips 5 (held),
        // and says the next claim starts past the last block it locked.
        let claim = try store.claim(id: Self.replayID, blocks: 3, held: [0, 1, 2, 5])
        #expect(claim.blocks == [3, 4, 6])
        #expect(claim.events.map(\.seq) == Array(192..<320) + Array(384..<448))
        #expect(claim.next == 448)
        // Everything else held by this session: nothing to claim (no wrap-around past its own blocks).
        let rest = try store.claim(id: Self.replayID, blocks: 2, held: Set(0...10), from: 192)  // seq 640 is block 10
        #expect(rest.blocks.isEmpty && rest.events.isEmpty)
    }

    @Test func blocksGivenBackUnsentAreClaimedAgain() throws {
        let (url, store, pid) = try replay(events: 640)
        defer { store.db.close() }
        let observer = try PostgresConnection(dsn: url, applicationName: "replay-claimer-observer")
        defer { observer.close() }
        // A new replay's first blocks, locked before the claimer starts.
        #expect(try store.lock(id: Self.replayID, blocks: [0, 1, 2, 3]) == [0, 1, 2, 3])
        let claimer = ReplayClaimer(store: store, replayID: Self.replayID, blocksPerClaim: 2, creation: nil, held: [0, 1, 2, 3])
        defer { claimer.close() }
        #expect(try claimer.take()?.blocks == [4, 5])
        // Blocks 2 and 3 go back unsent (the send loop keeps fewer first blocks once the replay is
        // committed): the next claim takes them, though it started past them.
        claimer.giveBack([2, 3])
        #expect(eventually(timeout: 30) { (try? blocks(heldBy: pid, observer)) == [0, 1, 4, 5] })
        #expect(try claimer.take()?.blocks == [2, 3])
        #expect(try claimer.take()?.blocks == [6, 7])
    }
}

