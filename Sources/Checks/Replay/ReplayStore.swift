import Foundation
import Postgres
import Support

/// The replay checkpoint tables in schema `opsctl`: one row per replay, one per event with its outcome.
/// The database is the coordinator: workers claim blocks of pending events with advisory locks held
/// by their session, so events claimed by a worker whose session is gone are claimable again.
struct ReplayStore {
    let db: PostgresConnection

    static func newID() -> String {
        "rp-" + UTCStamp.uniqueID()
    }

    /// `latest` = the newest replay with events not acknowledged.
    func resolve(_ idOrLatest: String) throws -> String {
        if idOrLatest != "latest" {
            guard try db.query("SELECT 1 FROM opsctl.replays WHERE replay_id = $1", [idOrLatest]).first != nil else {
                throw StepError("no replay \(idOrLatest) in opsctl.replays; list them with: SELECT replay_id, created_at, total FROM opsctl.replays ORDER BY created_at DESC")
            }
            return idOrLatest
        }
        let row = try db.query("""
            SELECT r.replay_id FROM opsctl.replays r
             WHERE EXISTS (SELECT 1 FROM opsctl.replay_items i WHERE i.replay_id = r.replay_id AND i.status <> 'delivered')
             ORDER BY r.created_at DESC LIMIT 1
            """).first
        guard let id = row?["replay_id"].string else { throw StepError("no unfinished replay to resume") }
        return id
    }

    /// Two replays of the same selection never run at once: the lock is held by this session until it ends.
    /// A refusal names the replay holding it and how to help with it instead.
    func lockSelection(_ selection: String) throws {
        let key = "opsctl:replay-selection:" + selection
        guard try db.tryAdvisoryLock(key) else {
            let holder = try db.query("""
                SELECT replay_id, created_by, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS"Z"') AS at
                  FROM opsctl.replays WHERE selection = $1::jsonb AND finished_at IS NULL ORDER BY created_at DESC LIMIT 1
                """, [selection]).first
            guard let id = holder?["replay_id"].string else {
                throw StepError("another replay of the same selection is being created; wait for it, then 'opsctl replay --join latest'")
            }
            let by = holder?["created_by"].string ?? "?", at = holder?["at"].string ?? "?"
            throw StepError("replay \(id) of the same selection is running (by \(by) since \(at)); help it with 'opsctl replay --join \(id)' or wait for it to finish")
        }
    }

    /// The replay a journaled run worked on, so `opsctl run replay --resume RUN_ID` continues it.
    func replay(workedOnBy runID: String) throws -> String? {
        try db.query("SELECT replay_id FROM opsctl.replay_runs WHERE run_id = $1", [runID]).first?["replay_id"].string
    }

    func record(runID: String, replayID: String) throws {
        try db.query("INSERT INTO opsctl.replay_runs (run_id, replay_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [runID, replayID])
    }

    func create(id: String, target: String, selection: String, createdBy: String, pace: ReplayPace) throws {
        try db.query("""
            INSERT INTO opsctl.replays (replay_id, target, selection, created_by, rate, concurrency)
            VALUES ($1, $2, $3::jsonb, $4, $5, $6)
            """, [id, target, selection, createdBy, pace.rate, pace.concurrency])
    }

    /// The rate and concurrency replay `id` was started with (replays created before they were recorded: the defaults).
    func pace(id: String) throws -> ReplayPace {
        let row = try db.query("SELECT rate, concurrency FROM opsctl.replays WHERE replay_id = $1", [id]).first
        return ReplayPace(rate: row?["rate"].double ?? ReplayPace.defaultRate,
                          concurrency: row?["concurrency"].int ?? ReplayPace.defaultConcurrency)
    }

    /// Adds events in selection order (seq continues after the rows already there); only the creation of
    /// the replay calls it, in its transaction (ReplayCreation), with events whose ids are distinct.
    /// Returns the rows written.
    @discardableResult
    func insert(id: String, _ events: [ReplayEvent]) throws -> Int {
        guard !events.isEmpty else { return 0 }
        return try db.query("""
            INSERT INTO opsctl.replay_items (replay_id, seq, event_id, event_type, payload)
            SELECT $1, coalesce((SELECT max(seq) FROM opsctl.replay_items WHERE replay_id = $1), 0) + u.n, u.id, nullif(u.type, ''), u.payload
              FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u(id, type, payload, n)
            """, [id, events.map(\.id), events.map { $0.type ?? "" }, events.map(\.payload)]).affectedRows
    }

    /// The replay's total, as counted by the creation's own inserts (in its transaction: nothing else
    /// writes its items), not by another scan of them.
    func finishCreate(id: String, total: Int) throws {
        try db.query("UPDATE opsctl.replays SET total = $2 WHERE replay_id = $1", [id, total])
    }

    /// `resume`: events that failed before are tried again (they were never acknowledged).
    func resetFailed(id: String) throws -> Int {
        try db.query("UPDATE opsctl.replay_items SET status = 'pending', updated_at = now() WHERE replay_id = $1 AND status = 'failed'",
                     [id]).affectedRows
    }

    /// Events are claimed in blocks of consecutive `seq`, each block by a session-level advisory lock:
    /// claiming writes no row (an UPDATE to 'sending' per event was half of the checkpoint table's
    /// cost per event), and a killed worker's blocks are free the moment its session is gone.
    static let blockSize = 64

    static func block(of seq: Int) -> Int { seq / blockSize }

    /// Replays written by opsctl before block claims marked claimed events `sending`: those of a
    /// session that is gone are pending again (once per run; newer workers never write `sending`).
    func adoptOrphans(id: String) throws {
        try db.query("""
            UPDATE opsctl.replay_items c SET status = 'pending', claimed_pid = NULL, updated_at = now()
             WHERE c.replay_id = $1 AND c.status = 'sending'
               AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = c.claimed_pid AND a.backend_start = c.claimed_backend_start)
            """, [id])
    }

    /// Claims up to `blocks` blocks holding pending events, skipping `held` (this session's own: its
    /// advisory locks are reentrant) and blocks locked by other workers; returns the blocks locked,
    /// their pending events in `seq` order and where the next claim starts looking (`from`): past the
    /// last block locked, else the lowest pending seq seen outside `held` (a block this session gives
    /// back unsent, ReplayClaimer.giveBack, moves its `from` back). The seq index does not know which events are done, so a scan from the
    /// start would read every checkpointed event of the replay per claim; events below the lowest
    /// pending one seen stay done, except events given back by a worker that left or made pending by
    /// `resetFailed` on a run started meanwhile, so a claim finding nothing from `from` looks again
    /// from the start before it reports the replay claimed.
    func claim(id: String, blocks wanted: Int, held: Set<Int>, from: Int = 0) throws -> (blocks: [Int], events: [ReplayEvent], next: Int) {
        var locked: [Int] = []
        var start = from
        var after = from - 1
        var lowest: Int?
        // Claims only run once the replay's items are committed: no seq beyond `top` appears meanwhile.
        let top = try db.query("SELECT coalesce(max(seq), 0) AS top FROM opsctl.replay_items WHERE replay_id = $1", [id]).first?["top"].int ?? 0
        // The first range holds just the blocks wanted: a worker alone finds them all there (it read
        // twice as many rows per claim, half of them its own blocks'). Each further range is twice as
        // long (other workers hold blocks, or events are done), up to 4,096 rows.
        var span = wanted * Self.blockSize
        while locked.count < wanted {
            // Blocks this session holds are skipped unread: their events are this worker's to send, and
            // the lowest pending event (`from`) is usually in one of them, so a claim read them all again.
            while held.contains(Self.block(of: after + 1)) { after = (Self.block(of: after + 1) + 1) * Self.blockSize - 1 }
            if after >= top {
                guard locked.isEmpty, start > 0 else { break }
                (start, after, lowest) = (0, -1, nil)
                continue
            }
            // Candidate blocks in seq order, a bounded seq range at a time (ending at a block's end):
            // whichever plan the planner picks (with statistics saying most events are done it sorts a
            // bitmap scan) reads at most `span` rows, never the rest of the replay.
            let end = (Self.block(of: after + 1) + span / Self.blockSize) * Self.blockSize - 1
            // One row per block with pending events (its lowest pending seq), not one per event: the
            // send loop decoded up to `span` rows per claim, ~5 per event sent.
            let rows = try db.query("""
                SELECT seq / $4 AS block, min(seq) AS low FROM opsctl.replay_items
                 WHERE replay_id = $1 AND status = 'pending' AND seq > $2 AND seq <= $3 GROUP BY 1 ORDER BY 1
                """, [id, after, end, Self.blockSize]).rows
            if lowest == nil { lowest = rows.first?["low"].int }
            var candidates: [Int] = []
            for row in rows {
                let b = row["block"].int ?? 0
                if !held.contains(b), !locked.contains(b) { candidates.append(b) }
            }
            if !candidates.isEmpty {
                // In order, stopping at `wanted`: unnest yields the candidates in order and the LIMIT
                // stops the (volatile) lock calls, so no block is locked that is not returned.
                locked += try db.query("""
                    SELECT b FROM unnest($2::int[]) AS u(b)
                     WHERE pg_try_advisory_lock(hashtext('opsctl:replay:' || $1), b) LIMIT $3
                    """, [id, candidates.map(String.init), wanted - locked.count]).rows.compactMap { $0["b"].int }
            }
            after = end
            span = min(4_096, span * 2)
        }
        // Past the last block locked: the blocks before it are done, this worker's (held, or let go once
        // recorded), or held by other workers (given back only by a worker that leaves: the look from the
        // start finds them). From the lowest pending event, the next claim read this claim's blocks again.
        let next = locked.max().map { ($0 + 1) * Self.blockSize } ?? lowest ?? start
        guard !locked.isEmpty else { return ([], [], next) }
        // A new statement, so a new snapshot taken after the locks: an event another worker recorded
        // before it let its block go reads as delivered here, never as pending. The seq range of the
        // blocks is an index condition: joined on unnest, the planner (no statistics for status and seq)
        // read every pending event of the replay per claim, 10-30 ms at 10,000.
        let events = try db.query("""
            SELECT seq, event_id, event_type, payload, attempts FROM opsctl.replay_items
             WHERE replay_id = $1 AND status = 'pending' AND seq >= $3 AND seq < $4 AND seq / $5 = ANY($2::int[])
             ORDER BY seq
            """, [id, locked.map(String.init), (locked.min() ?? 0) * Self.blockSize, ((locked.max() ?? 0) + 1) * Self.blockSize,
                  Self.blockSize]).rows
            .map { ReplayEvent(id: $0["event_id"].string ?? "", type: $0["event_type"].string,
                               payload: $0["payload"].string ?? "", seq: $0["seq"].int ?? 0, attempts: $0["attempts"].int ?? 0) }
        let used = Set(events.map { Self.block(of: $0.seq) })
        let empty = locked.filter { !used.contains($0) }
        try unlock(id: id, blocks: empty)
        return (locked.filter { used.contains($0) }, events, next)
    }

    /// Locks blocks of a replay not yet visible to other sessions; returns those locked (all, unless a
    /// lock key collides with another replay's block: never waited for).
    func lock(id: String, blocks: [Int]) throws -> Set<Int> {
        guard !blocks.isEmpty else { return [] }
        return Set(try db.query("SELECT b FROM unnest($2::int[]) AS u(b) WHERE pg_try_advisory_lock(hashtext('opsctl:replay:' || $1), b)",
                                [id, blocks.map(String.init)]).rows.compactMap { $0["b"].int })
    }

    /// Lets blocks go once every event claimed from them is recorded (or given back).
    func unlock(id: String, blocks: [Int]) throws {
        guard !blocks.isEmpty else { return }
        try db.query("SELECT count(pg_advisory_unlock(hashtext('opsctl:replay:' || $1), b)) FROM unnest($2::int[]) AS u(b)", [id, blocks.map(String.init)])
    }

    /// Checkpoints finished events in one statement, finding their rows by the key (replay_id, seq).
    /// A batch whose outcomes are all alike (every event delivered at the first attempt with the same
    /// answer: nearly every batch of a healthy replay) binds the outcome once and the seqs as one array;
    /// a mixed batch binds one array per column, joined on seq. The batch's seq range is an index
    /// condition beside `seq = ANY`: without statistics for seq (a new replay's items are not analysed)
    /// the planner took `seq = ANY(200 values)` for a third of the replay and read every row of it per
    /// batch (a sequential scan, 12 µs per event at 10,000), as it hashed the whole replay when the rows
    /// were joined on the unnest alone.
    func record(id: String, worker: String, _ outcomes: [ReplayOutcome]) throws {
        guard let first = outcomes.first else { return }
        let seqs = outcomes.map { String($0.seq) }
        var (low, high) = (first.seq, first.seq)
        for o in outcomes { low = min(low, o.seq); high = max(high, o.seq) }
        if outcomes.allSatisfy({ $0.sameResult(as: first) }) {
            try db.query("""
                UPDATE opsctl.replay_items
                   SET status = $3, attempts = $4, last_http_status = $5, error = $6, service_status = $7, claimed_by = $8, updated_at = now()
                 WHERE replay_id = $1 AND seq >= $9 AND seq <= $10 AND seq = ANY($2::int[])
                """, [id, seqs, first.status, first.attempts, first.httpStatus, first.error, first.serviceStatus, worker, low, high])
            return
        }
        try db.query("""
            UPDATE opsctl.replay_items i
               SET status = u.status, attempts = u.attempts::int, last_http_status = nullif(u.http, '')::int,
                   error = nullif(u.error, ''), service_status = nullif(u.service, ''), claimed_by = $8, updated_at = now()
              FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
                   AS u(seq, status, attempts, http, error, service)
             WHERE i.replay_id = $1 AND i.seq >= $9 AND i.seq <= $10 AND i.seq = ANY($2::int[]) AND i.seq = u.seq
            """, [id, seqs, outcomes.map(\.status), outcomes.map { String($0.attempts) },
                  outcomes.map { $0.httpStatus.map(String.init) ?? "" }, outcomes.map { $0.error ?? "" },
                  outcomes.map { $0.serviceStatus ?? "" }, worker, low, high])
    }

    struct Totals {
        var byStatus: [String: Int] = [:]
        var total: Int { byStatus.values.reduce(0, +) }
        subscript(_ s: String) -> Int { byStatus[s] ?? 0 }
    }

    func totals(id: String) throws -> Totals {
        var t = Totals()
        for row in try db.query("SELECT status, count(*) AS n FROM opsctl.replay_items WHERE replay_id = $1 GROUP BY status", [id]).rows {
            t.byStatus[row["status"].string ?? "?"] = row["n"].int ?? 0
        }
        return t
    }

    /// A replay's end as this worker sees it, in ONE statement (one scan of its items, where counting,
    /// marking it finished and listing failures were three): the count by status, the first `limit`
    /// failures in seq order, and `finished_at` set when no event is pending or sending. Counts, the
    /// finish and the failures come from one snapshot, taken after this worker's outcomes were
    /// committed: of workers ending together, the one whose statement starts last sees every other's
    /// outcomes (each commits its own before its statement starts) and marks the replay finished.
    func conclude(id: String, failures limit: Int = 20) throws -> (totals: Totals, failures: [JSONValue]) {
        // The failures' seqs are gathered by the counting scan (unordered: an ordered aggregate may sort
        // every item first); the first `limit` of them are then read by the key, one index probe each
        // (OFFSET 0 keeps the lookup a per-row subquery, never a join that scans the replay again).
        let rows = try db.query("""
            WITH counts AS MATERIALIZED (
                SELECT status, count(*) AS n, array_agg(seq) FILTER (WHERE status = 'failed') AS failed
                  FROM opsctl.replay_items WHERE replay_id = $1 GROUP BY status
            ), finished AS (
                UPDATE opsctl.replays SET finished_at = now()
                 WHERE replay_id = $1 AND NOT EXISTS (SELECT 1 FROM counts WHERE status IN ('pending', 'sending'))
            ), first_failed AS (
                SELECT s FROM counts, unnest(counts.failed) AS s ORDER BY s LIMIT $2
            )
            SELECT c.status, c.n, NULL::int AS seq, NULL::text AS event_id, NULL::text AS event_type, NULL::int AS attempts,
                   NULL::int AS last_http_status, NULL::text AS error
              FROM counts c
            UNION ALL
            SELECT NULL, NULL, i.seq, i.event_id, i.event_type, i.attempts, i.last_http_status, i.error
              FROM first_failed f
             CROSS JOIN LATERAL (SELECT seq, event_id, event_type, attempts, last_http_status, error FROM opsctl.replay_items
                                  WHERE replay_id = $1 AND seq = f.s OFFSET 0) i
             ORDER BY seq NULLS FIRST
            """, [id, limit]).rows
        var totals = Totals()
        var failures: [JSONValue] = []
        for row in rows {
            if let status = row["status"].string {
                totals.byStatus[status] = row["n"].int ?? 0
                continue
            }
            failures.append(.object([
                "event_id": .string(row["event_id"].string ?? ""), "type": row["event_type"].string.map(JSONValue.string) ?? .null,
                "attempts": .int(row["attempts"].int ?? 0), "http_status": row["last_http_status"].int.map(JSONValue.int) ?? .null,
                "error": .string(row["error"].string ?? ""),
            ]))
        }
        return (totals, failures)
    }
}

/// One event to deliver: the service's event id and the exact body to sign and send.
struct ReplayEvent: Sendable {
    var id: String
    var type: String?
    var payload: String
    var seq: Int = 0
    var attempts: Int = 0
}

/// A finished event, as checkpointed.
struct ReplayOutcome: Sendable {
    var eventID: String
    /// The event's row in opsctl.replay_items (with the replay id, its key).
    var seq: Int = 0
    /// `delivered` or `failed`.
    var status: String
    var attempts: Int
    var httpStatus: Int?
    var error: String?
    /// What the service said it did (`processed`, `duplicate`), when its answer is JSON.
    var serviceStatus: String?

    /// Everything recorded but the event: two outcomes alike are written by one value.
    func sameResult(as other: ReplayOutcome) -> Bool {
        status == other.status && attempts == other.attempts && httpStatus == other.httpStatus && error == other.error
            && serviceStatus == other.serviceStatus
    }
}

/// How fast a replay sends: events per second (0 = unthrottled) and requests in flight.
struct ReplayPace: Equatable {
    static let defaultRate: Double = 0
    static let defaultConcurrency = 8
    var rate: Double
    var concurrency: Int

    /// The pace given on this run where given, else `original`'s: a resumed 100/s replay stays at 100/s.
    static func given(rate: Double?, concurrency: Int?, else original: ReplayPace) -> ReplayPace {
        ReplayPace(rate: rate ?? original.rate, concurrency: concurrency ?? original.concurrency)
    }
}
