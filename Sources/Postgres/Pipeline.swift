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
        for (i, s) in statements.enumerated() {
            if s.parameters.contains(where: { $0.postgresText?.utf8.contains(0) == true }) {
                return PipelineOutcome(results: [], failure: (i, PostgresError(
                    kind: .query, message: "a parameter contains a NUL byte, which Postgres text cannot store", endpoint: endpoint)))
            }
        }
        try beginStatement()
        guard PQenterPipelineMode(conn) == 1 else { throw PostgresError(kind: .connection, message: connectionMessage(), endpoint: endpoint) }
        // What each result read back answers: a statement (by index), or the preparation of a named
        // statement that the statement after it runs.
        enum Expected { case statement(Int), prepare(String, for: Int) }
        var expected: [Expected] = []
        var sent = 0
        for (i, s) in statements.enumerated() {
            let texts = s.parameters.map { $0.postgresText }
            var ok: Int32
            if s.prepared {
                let name = s.preparedName
                if !preparedStatements.contains(name) && !expected.contains(where: { if case .prepare(name, _) = $0 { true } else { false } }) {
                    guard PQsendPrepare(conn, name, s.sql, 0, nil) == 1 else { break }
                    expected.append(.prepare(name, for: i))
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
        var outcome = PipelineOutcome(results: [], failure: nil)
        var connectionFailure: PostgresError?
        // One result (then NULL) per message sent, then the sync point.
        for item in expected {
            guard let result = PQgetResult(conn) else {
                connectionFailure = PostgresError(kind: .connection, message: connectionMessage(), endpoint: endpoint)
                break
            }
            while let extra = PQgetResult(conn) { PQclear(extra) }
            let status = PQresultStatus(result)
            if status == PGRES_PIPELINE_ABORTED {
                PQclear(result)
                continue
            }
            let i: Int
            switch item {
            case let .statement(index): i = index
            case let .prepare(name, index):
                i = index
                // Kept by the server for the rest of the session, whatever becomes of the transaction.
                if status == PGRES_COMMAND_OK { preparedStatements.insert(name); PQclear(result); continue }
            }
            do {
                let r = try consume(result)
                outcome.results.append(r)
            } catch let e as PostgresError {
                if e.kind == .connection { connectionFailure = e; break }
                if outcome.failure == nil { outcome.failure = (i, e) }
            }
        }
        if connectionFailure == nil && synced {
            // The sync point's own result closes the pipeline.
            while let r = PQgetResult(conn) {
                let status = PQresultStatus(r)
                PQclear(r)
                if status == PGRES_PIPELINE_SYNC { break }
            }
        }
        if PQexitPipelineMode(conn) != 1 && connectionFailure == nil {
            connectionFailure = PostgresError(kind: .connection, message: connectionMessage(), endpoint: endpoint)
        }
        // A backend that was terminated (or a server that went away) fails its statement with a FATAL
        // error while libpq may not have seen the socket close yet: that is a lost connection, not a
        // failed statement.
        if connectionFailure == nil, let f = outcome.failure,
           PQstatus(conn) != CONNECTION_OK || f.error.sqlState.map({ $0.hasPrefix("57P0") || $0.hasPrefix("08") }) == true {
            connectionFailure = PostgresError(kind: .connection, message: "connection lost: \(f.error.message)", endpoint: endpoint,
                                              sqlState: f.error.sqlState, nextStep: "check that the server is up and reachable")
        }
        if let connectionFailure { throw connectionFailure }
        if sent < statements.count && outcome.failure == nil {
            throw PostgresError(kind: .connection, message: connectionMessage(), endpoint: endpoint)
        }
        return outcome
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
