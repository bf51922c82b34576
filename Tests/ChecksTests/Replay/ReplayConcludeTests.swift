import Foundation
import Postgres
import Testing
import TestSupport
@testable import Checks

/// A replay's end is one statement (ReplayStore.conclude): the count by status, the first failures in
/// seq order and the finish, read together. These pin what the step reports from it.
@Suite("Replay conclusion", .enabled(if: TestDatabase.available), .serialized)
struct ReplayConcludeTests {
    static let replayID = "rp-conclude-test"

    /// A replay of `events` pending events (seq 1...events), created as the step creates one.
    func replay(events: Int) throws -> ReplayStore {
        let url = try TestDatabase.fresh("replay_conclude")
        let store = ReplayStore(db: try PostgresConnection(dsn: url, applicationName: "replay-conclude"))
        try store.ensureSchema()
        try store.create(id: Self.replayID, target: "http://127.0.0.1:1/hook", selection: "{}", createdBy: "test",
                         pace: ReplayPace(rate: 0, concurrency: 8))
        let written = try store.insert(id: Self.replayID, (1...events).map { ReplayEvent(id: "evt_\($0)", type: $0 % 2 == 0 ? "even" : nil,
                                                                                         payload: "{\"n\":\($0)}") })
        #expect(written == events, "insert returns the rows it wrote")
        try store.finishCreate(id: Self.replayID, total: written)
        return store
    }

    func finished(_ store: ReplayStore) throws -> Bool {
        try store.db.query("SELECT finished_at IS NOT NULL AS done FROM opsctl.replays WHERE replay_id = $1", [Self.replayID])
            .first?["done"].bool ?? false
    }

    func outcome(_ seq: Int, _ status: String, http: Int?, error: String? = nil, attempts: Int = 1) -> ReplayOutcome {
        ReplayOutcome(eventID: "evt_\(seq)", seq: seq, status: status, attempts: attempts, httpStatus: http, error: error)
    }

    @Test func countsFailuresAndTheFinishComeFromOneStatement() throws {
        let store = try replay(events: 300)
        defer { store.db.close() }
        #expect(try store.db.query("SELECT total FROM opsctl.replays WHERE replay_id = $1", [Self.replayID]).first?["total"].int == 300)

        // 250 delivered, 30 failed (recorded out of seq order, in two batches, with distinct errors), 20 still pending.
        try store.record(id: Self.replayID, worker: "w", (1...250).map { outcome($0, "delivered", http: 200) })
        let failedSeqs = Array(251...280)
        try store.record(id: Self.replayID, worker: "w", failedSeqs.reversed().prefix(15).map {
            outcome($0, "failed", http: 400, error: "HTTP 400: bad \($0)", attempts: 2)
        })
        try store.record(id: Self.replayID, worker: "w", failedSeqs.prefix(15).map {
            outcome($0, "failed", http: nil, error: "connection refused \($0)", attempts: 5)
        })

        let partial = try store.conclude(id: Self.replayID)
        #expect(partial.totals.byStatus == ["delivered": 250, "failed": 30, "pending": 20])
        #expect(partial.totals.total == 300)
        #expect(try !finished(store), "events still pending: the replay is not finished")
        #expect(partial.failures.count == 20, "the first 20 failures")
        #expect(partial.failures.compactMap { $0["event_id"]?.string } == (251...270).map { "evt_\($0)" }, "in seq order")
        let first = try #require(partial.failures.first)
        #expect(first == .object(["event_id": .string("evt_251"), "type": .null, "attempts": .int(5), "http_status": .null,
                                  "error": .string("connection refused 251")]))
        #expect(partial.failures[15] == .object(["event_id": .string("evt_266"), "type": .string("even"), "attempts": .int(2),
                                                 "http_status": .int(400), "error": .string("HTTP 400: bad 266")]))
        #expect(try store.conclude(id: Self.replayID, failures: 3).failures.compactMap { $0["event_id"]?.string }
                == ["evt_251", "evt_252", "evt_253"])

        // The last events recorded: finished, with the same counts the step reports.
        try store.record(id: Self.replayID, worker: "w", (281...300).map { outcome($0, "delivered", http: 200) })
        let done = try store.conclude(id: Self.replayID)
        #expect(done.totals.byStatus == ["delivered": 270, "failed": 30])
        #expect(done.failures.count == 20)
        #expect(try finished(store))
    }

    @Test func aReplayWithoutFailuresListsNone() throws {
        let store = try replay(events: 70)
        defer { store.db.close() }
        try store.record(id: Self.replayID, worker: "w", (1...70).map { outcome($0, "delivered", http: 202) })
        let done = try store.conclude(id: Self.replayID)
        #expect(done.totals.byStatus == ["delivered": 70])
        #expect(done.failures.isEmpty)
        #expect(try finished(store))
        // An event recorded `sending` by an older opsctl still counts as not done.
        try store.db.execute("UPDATE opsctl.replays SET finished_at = NULL; UPDATE opsctl.replay_items SET status = 'sending' WHERE seq = 7")
        #expect(try store.conclude(id: Self.replayID).totals.byStatus == ["delivered": 69, "sending": 1])
        #expect(try !finished(store))
    }
}
