import CLibPQ
import Foundation

/// One statement of a pipeline: SQL (a single statement) and its bound parameters.
public struct PipelinedStatement {
    public var sql: String
    public var parameters: [any PostgresBindable]
    /// Parsed and planned once per connection (a named prepared statement), then only bound and run:
    /// for bookkeeping sent again and again with different values (a history row per migration), whose
    /// parse and plan cost the server more than running it.
    public var prepared: Bool

    public init(_ sql: String, _ parameters: [any PostgresBindable] = [], prepared: Bool = false) {
        self.sql = sql
        self.parameters = parameters
        self.prepared = prepared
    }

    /// The prepared statement's name: derived from its text, so one text is prepared once per connection
    /// and two texts never share a name.
    var preparedName: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in sql.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "opsctl_" + String(hash, radix: 16)
    }
}

/// What a pipeline did: the results of the statements that ran, in order, and the first failure.
public struct PipelineOutcome {
    public var results: [QueryResult]
    /// The failing statement's index and error; the statements after it did not run.
    public var failure: (index: Int, error: PostgresError)?
}

extension PostgresConnection {
    /// Sends `statements` in one round trip (libpq pipeline mode, extended protocol) and reads their
    /// results: a migration's statements, its checks and its history rows cost one network wait
    /// instead of one each. The server runs them in order and stops at the first error (the rest are
    /// aborted). Meant for a bounded batch (a few hundred small statements): everything is written
    /// before any result is read. Throws only when the connection fails.
    public func pipeline(_ statements: [PipelinedStatement]) throws -> PipelineOutcome {
        let window = try PipelineWindow(self)
        var outcome: PipelineOutcome?
        do {
            try window.send(statements)
            outcome = try window.receive()
        } catch {
            window.abandon()
            throw error
        }
        try window.close()
        return outcome ?? PipelineOutcome(results: [], failure: nil)
    }
}

/// Batches of statements in flight on one connection (libpq pipeline mode), each ended by its own
/// sync point, so the server can run batch N+1 while the client still reads batch N's results: it
/// never waits for the client between them. Each batch is what `pipeline` sends at once; the server
/// runs the batches in order, and an error skips the rest of its own batch only (what comes after
/// the next sync runs: a batch that must not run after a failed one says so itself, e.g. with a
/// guard statement). Results come back oldest batch first. Bounded by the caller: everything sent
/// is held by the socket and the server until read (libpq reads while it writes, so no deadlock).
public final class PipelineWindow {
    let db: PostgresConnection
    /// What each result read back answers, per batch in flight: a statement (by index), or the
    /// preparation of a named statement that the statement after it runs.
    private enum Expected { case statement(Int), prepare(String, for: Int) }
    private struct Batch {
        var expected: [Expected]
        var synced: Bool
        /// Refused before sending (a NUL byte in a parameter): its failure, nothing of it reached the server.
        var refused: (Int, PostgresError)?
    }
    private var inFlight: [Batch] = []
    /// Named statements whose preparation was sent and not read back yet: later batches use them
    /// without preparing again (and, if the preparation failed, fail too, behind the batch that failed).
    private var preparing: Set<String> = []
    private var open = true

    /// Puts the connection in pipeline mode (refused when closed or when a cancel is pending).
    public init(_ db: PostgresConnection) throws {
        self.db = db
        try db.beginStatement()
        guard PQenterPipelineMode(db.conn) == 1 else {
            throw PostgresError(kind: .connection, message: db.connectionMessage(), endpoint: db.endpoint)
        }
    }

    /// Batches sent whose results are not read yet.
    public var count: Int { inFlight.count }

    /// Sends one batch and its sync point. Throws only when the connection fails.
    public func send(_ statements: [PipelinedStatement]) throws {
        let conn = db.conn
        for (i, s) in statements.enumerated() {
            if s.parameters.contains(where: { $0.postgresText?.utf8.contains(0) == true }) {
                inFlight.append(Batch(expected: [], synced: false, refused: (i, PostgresError(
                    kind: .query, message: "a parameter contains a NUL byte, which Postgres text cannot store", endpoint: db.endpoint))))
                return
            }
        }
        var expected: [Expected] = []
        var sent = 0
        for (i, s) in statements.enumerated() {
            let texts = s.parameters.map { $0.postgresText }
            var ok: Int32
            if s.prepared {
                let name = s.preparedName
                if !db.preparedStatements.contains(name) && !preparing.contains(name) {
                    guard PQsendPrepare(conn, name, s.sql, 0, nil) == 1 else { break }
                    expected.append(.prepare(name, for: i))
                    preparing.insert(name)
                }
                ok = withPipelineCStrings(texts) { values in
                    PQsendQueryPrepared(conn, name, Int32(texts.count), values, nil, nil, 0)
                }
            } else {
                ok = withPipelineCStrings(texts) { values in
                    PQsendQueryParams(conn, s.sql, Int32(texts.count), nil, values, nil, nil, 0)
                }
            }
            guard ok == 1 else { break }
            expected.append(.statement(i))
            sent += 1
        }
        let synced = PQpipelineSync(conn) == 1
        inFlight.append(Batch(expected: expected, synced: synced))
        if !synced || sent < statements.count {
            throw PostgresError(kind: .connection, message: db.connectionMessage(), endpoint: db.endpoint)
        }
    }

    /// Reads the results of the oldest batch in flight, up to its sync point. Throws only when the
    /// connection fails.
    public func receive() throws -> PipelineOutcome {
        guard !inFlight.isEmpty else { return PipelineOutcome(results: [], failure: nil) }
        let batch = inFlight.removeFirst()
        if let refused = batch.refused { return PipelineOutcome(results: [], failure: refused) }
        let conn = db.conn
        var outcome = PipelineOutcome(results: [], failure: nil)
        var connectionFailure: PostgresError?
        // One result (then NULL) per message sent, then the sync point.
        for item in batch.expected {
            guard let result = PQgetResult(conn) else {
                connectionFailure = PostgresError(kind: .connection, message: db.connectionMessage(), endpoint: db.endpoint)
                break
            }
            while let extra = PQgetResult(conn) { PQclear(extra) }
            let status = PQresultStatus(result)
            let i: Int
            switch item {
            case let .statement(index): i = index
            case let .prepare(name, index):
                i = index
                preparing.remove(name)
                // Kept by the server for the rest of the session, whatever becomes of the transaction.
                if status == PGRES_COMMAND_OK { db.preparedStatements.insert(name); PQclear(result); continue }
            }
            if status == PGRES_PIPELINE_ABORTED {
                PQclear(result)
                continue
            }
            do {
                let r = try db.consume(result)
                outcome.results.append(r)
            } catch let e as PostgresError {
                if e.kind == .connection { connectionFailure = e; break }
                if outcome.failure == nil { outcome.failure = (i, e) }
            }
        }
        if connectionFailure == nil && batch.synced {
            // The sync point's own result closes the batch.
            while let r = PQgetResult(conn) {
                let status = PQresultStatus(r)
                PQclear(r)
                if status == PGRES_PIPELINE_SYNC { break }
            }
        }
        // A backend that was terminated (or a server that went away) fails its statement with a FATAL
        // error while libpq may not have seen the socket close yet: that is a lost connection, not a
        // failed statement.
        if connectionFailure == nil, let f = outcome.failure,
           PQstatus(conn) != CONNECTION_OK || f.error.sqlState.map({ $0.hasPrefix("57P0") || $0.hasPrefix("08") }) == true {
            connectionFailure = PostgresError(kind: .connection, message: "connection lost: \(f.error.message)", endpoint: db.endpoint,
                                              sqlState: f.error.sqlState, nextStep: "check that the server is up and reachable")
        }
        if let connectionFailure {
            abandon()
            throw connectionFailure
        }
        return outcome
    }

    /// Leaves pipeline mode once every batch was read: the connection takes ordinary statements again.
    public func close() throws {
        guard open else { return }
        while !inFlight.isEmpty { _ = try receive() }
        open = false
        if PQexitPipelineMode(db.conn) != 1 {
            throw PostgresError(kind: .connection, message: db.connectionMessage(), endpoint: db.endpoint)
        }
    }

    /// After a connection failure: nothing more is read; pipeline mode is left if libpq still can.
    public func abandon() {
        guard open else { return }
        open = false
        inFlight.removeAll()
        preparing.removeAll()
        _ = PQexitPipelineMode(db.conn)
    }
}

extension PostgresConnection {
    /// Forgets the statements prepared on this session: after SQL that dropped them (`DEALLOCATE ALL`,
    /// `DISCARD ALL`), the next pipeline prepares them again.
    public func forgetPreparedStatements() { preparedStatements.removeAll() }
}

private func withPipelineCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    if strings.isEmpty { return body(nil) }
    let copies = strings.map { $0.map { strdup($0) } ?? nil }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { $0.map { UnsafePointer($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
