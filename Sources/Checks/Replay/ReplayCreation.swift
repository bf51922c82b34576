import Foundation
import Postgres
import Support

/// Creates a new replay on its own connection while its first events are already being sent.
///
/// Writing a replay's items (one row per event, index entries, a foreign-key check each) took most of
/// the time before the first request: ~0.1 s at 10,000 events, a sixth of the replay. The set is still
/// frozen in ONE transaction, at REPEATABLE READ: it first reads the selection's first `firstCount`
/// events (with the `seq` the items get: same snapshot, same `now()`, same total order) and hands them
/// to the sender, then writes every item and commits. Nothing is checkpointed before the commit (the
/// sender holds those outcomes), so a replay is never half created: killed before the commit, no
/// replay exists and the events already sent are redeliveries the service dedupes by id, as for a
/// kill between a send and its checkpoint. A selection the database refuses fails at the first read,
/// before anything is sent. No ANALYZE follows (it cost Postgres 8-40 ms per 10,000 items): every
/// statement on the items bounds its rows by a seq range of the key, whatever the statistics say.
final class ReplayCreation: @unchecked Sendable {
    /// The items of a new replay, as SQL over the service's event store or as events read from a file.
    enum Source {
        case table(EventStore, filter: String, params: [any PostgresBindable], limit: Int?)
        case file([ReplayEvent])
    }

    struct First {
        var events: [ReplayEvent]
        /// Events in the whole selection.
        var total: Int
    }

    let id: String
    private let target: String
    private let selectionJSON: String
    private let createdBy: String
    private let pace: ReplayPace
    private let runID: String?
    private let firstCount: Int
    private let connect: @Sendable () throws -> PostgresConnection

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var first: Result<First, Error>?
    private var committed: Result<Int, Error>?
    private var finished = false
    /// What to write once the caller holds the selection lock; nil = give up (no replay is created).
    private var go: Source??
    /// Known at `start`: the first events are read while the caller checks the schema and locks the selection.
    private var early: Source?

    /// Events sent before the items are written: whole blocks (seq 1 ..< blocks × blockSize), enough
    /// to keep `concurrency` requests busy while ~10,000 items are written.
    static func firstCount(concurrency: Int) -> Int {
        let blocks = max(16, (concurrency * 16 + ReplayStore.blockSize - 1) / ReplayStore.blockSize)
        return blocks * ReplayStore.blockSize - 1
    }

    init(id: String, target: String, selectionJSON: String, createdBy: String, pace: ReplayPace, runID: String?,
         connect: @escaping @Sendable () throws -> PostgresConnection) {
        self.id = id
        self.target = target
        self.selectionJSON = selectionJSON
        self.createdBy = createdBy
        self.pace = pace
        self.runID = runID
        self.firstCount = Self.firstCount(concurrency: pace.concurrency)
        self.connect = connect
    }

    /// Connects on a thread of its own (while the caller's connection sets up) and waits for `proceed`.
    /// With the source known already (a new replay, unless its selection lock is refused), its first
    /// events are read meanwhile too: the ~10-20 ms of that read overlap the caller's connection, schema
    /// check and lock instead of following them. Nothing is written before `proceed`; `abandon` rolls the
    /// read back.
    func start(reading source: Source? = nil) {
        early = source
        let thread = Thread { [self] in work() }
        thread.name = "opsctl-replay-create"
        thread.start()
    }

    /// Writes the replay: `firstEvents()` and `waitCommitted()` follow it.
    func proceed(_ source: Source) {
        condition.withLock {
            if go == nil { go = .some(source) }
            condition.broadcast()
        }
    }

    /// No replay after all (refused, or an existing one is continued): the connection closes unused.
    func abandon() {
        condition.withLock {
            if go == nil { go = .some(nil) }
            condition.broadcast()
        }
    }

    /// The selection's first events with their `seq`, or the error the database gave for the selection.
    func firstEvents() throws -> First {
        condition.lock()
        defer { condition.unlock() }
        while first == nil { condition.wait() }
        return try first!.get()
    }

    /// True once the items are committed (checkpoints may be written).
    var isCommitted: Bool {
        condition.withLock { if case .success = committed { return true } else { return false } }
    }

    /// Waits until the items are committed; the replay's total, or why creating it failed.
    @discardableResult
    func waitCommitted() throws -> Int {
        condition.lock()
        defer { condition.unlock() }
        while committed == nil { condition.wait() }
        return try committed!.get()
    }

    /// Waits until the connection is closed (after the commit, or unused).
    func finish() {
        condition.lock()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func publish(first value: Result<First, Error>? = nil, committed done: Result<Int, Error>? = nil, finished end: Bool = false) {
        condition.withLock {
            if let value, first == nil { first = value }
            if let done, committed == nil { committed = done }
            if end { finished = true }
            condition.broadcast()
        }
    }

    private func work() {
        let connection: PostgresConnection
        do {
            connection = try connect()
            PhaseClock.mark("replay creation connected")
        } catch {
            publish(first: .failure(error), committed: .failure(error), finished: true)
            return
        }
        let store = ReplayStore(db: connection)
        var open = false
        do {
            if let early {
                open = true
                try beginReadingHead(early, connection)
            }
            condition.lock()
            while go == nil { condition.wait() }
            let chosen = go!
            condition.unlock()
            // Given up (refused, or an existing replay is continued): nothing is written.
            guard let given = chosen else {
                if open { _ = try? connection.execute("ROLLBACK") }
                connection.close()
                publish(finished: true)
                return
            }
            let source = early ?? given
            if !open {
                open = true
                try beginReadingHead(source, connection)
            }
            let total = try write(source, store: store, connection: connection)
            PhaseClock.mark("replay items written")
            try connection.execute("COMMIT")
            PhaseClock.mark("replay items committed")
            publish(committed: .success(total))
        } catch {
            if open { _ = try? connection.execute("ROLLBACK") }
            // A failure before the first events were handed over is the whole answer; after, the sender stops.
            publish(first: .failure(error), committed: .failure(error))
        }
        connection.close()
        publish(finished: true)
    }

    /// Opens the creation's transaction and hands the first events (with their seq) to the sender, read
    /// in its snapshot: one snapshot for the first read and the insert, so both see the same events, in
    /// the same order.
    private func beginReadingHead(_ source: Source, _ connection: PostgresConnection) throws {
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SET LOCAL statement_timeout = 300000; SET LOCAL lock_timeout = 5000")
        switch source {
        case let .table(events, filter, params, limit):
            publish(first: .success(try readFirst(connection, events, filter: filter, params: params, limit: limit)))
        case let .file(events):
            let head = events.prefix(firstCount).enumerated().map { i, e in
                ReplayEvent(id: e.id, type: e.type, payload: e.payload, seq: i + 1, attempts: 0)
            }
            publish(first: .success(First(events: Array(head), total: events.count)))
        }
        PhaseClock.mark("replay first events read")
    }

    /// The replay's row, its run's, and every item, once the first events are handed over (they wait for
    /// that read only); the replay's total.
    private func write(_ source: Source, store: ReplayStore, connection: PostgresConnection) throws -> Int {
        try writeReplay(store)
        var total = 0
        switch source {
        case let .table(events, filter, params, limit):
            total = try insertAll(connection, events, filter: filter, params: params, limit: limit)
        case let .file(events):
            var start = 0
            while start < events.count {
                let end = min(events.count, start + 2_000)
                total += try store.insert(id: id, Array(events[start..<end]))
                start = end
            }
        }
        try store.finishCreate(id: id, total: total)
        return total
    }

    /// The replay's row and its run's, ahead of its items in the same transaction.
    private func writeReplay(_ store: ReplayStore) throws {
        try store.create(id: id, target: target, selection: selectionJSON, createdBy: createdBy, pace: pace)
        if let runID { try store.record(runID: runID, replayID: id) }
    }

    /// The first `firstCount` events of the selection, numbered as the insert numbers them.
    private func readFirst(_ connection: PostgresConnection, _ events: EventStore, filter: String, params: [any PostgresBindable], limit: Int?) throws -> First {
        let limitClause = limit.map { " LIMIT \($0)" } ?? ""
        // A top-N sort of the first events (not a sort of the whole selection) and a count: the first
        // requests wait for this statement only.
        let rows = try connection.query("""
            SELECT row_number() OVER (ORDER BY \(events.orderSQL("e"))) AS seq, \(events.providerIDSQL("e"))::text AS event_id,
                   \(events.typeSQL("e")) AS event_type, \(events.payloadSQL("e")) AS payload, $1::text AS replay_id,
                   (SELECT count(*) FROM (SELECT 1 FROM \(events.tableSQL) WHERE \(filter)\(limitClause)) c) AS total
              FROM (SELECT * FROM \(events.tableSQL) WHERE \(filter) ORDER BY \(events.orderSQL()) LIMIT \(min(firstCount, limit ?? firstCount))) e
             ORDER BY 1
            """, [id] + params).rows
        let list = rows.map {
            ReplayEvent(id: $0["event_id"].string ?? "", type: $0["event_type"].string, payload: $0["payload"].string ?? "",
                        seq: $0["seq"].int ?? 0, attempts: 0)
        }
        return First(events: list, total: rows.first?["total"].int ?? 0)
    }

    /// The items of the selection; returns how many were written.
    private func insertAll(_ connection: PostgresConnection, _ events: EventStore, filter: String, params: [any PostgresBindable],
                           limit: Int?) throws -> Int {
        let limitClause = limit.map { " LIMIT \($0)" } ?? ""
        // The selection is frozen here: events failing later belong to the next replay.
        return try connection.query("""
            INSERT INTO opsctl.replay_items (replay_id, seq, event_id, event_type, payload)
            SELECT $1, row_number() OVER (ORDER BY \(events.orderSQL("e"))), \(events.providerIDSQL("e"))::text,
                   \(events.typeSQL("e")), \(events.payloadSQL("e"))
              FROM (SELECT * FROM \(events.tableSQL) WHERE \(filter) ORDER BY \(events.orderSQL())\(limitClause)) e
            """, [id] + params).affectedRows
    }
}
