import CLibPQ
import Foundation

/// One statement of a pipeline: SQL (a single statement) and its bound parameters.
public struct PipelinedStatement {
    public var sql: String
    public var parameters: [any PostgresBindable]

    public init(_ sql: String, _ parameters: [any PostgresBindable] = []) {
        self.sql = sql
        self.parameters = parameters
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
        var sent = 0
        for s in statements {
            let texts = s.parameters.map { $0.postgresText }
            let ok = withPipelineCStrings(texts) { values in
                PQsendQueryParams(conn, s.sql, Int32(texts.count), nil, values, nil, nil, 0)
            }
            guard ok == 1 else { break }
            sent += 1
        }
        let synced = PQpipelineSync(conn) == 1
        var outcome = PipelineOutcome(results: [], failure: nil)
        var connectionFailure: PostgresError?
        // One result (then NULL) per statement sent, then the sync point.
        for i in 0..<sent {
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

private func withPipelineCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    if strings.isEmpty { return body(nil) }
    let copies = strings.map { $0.map { strdup($0) } ?? nil }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { $0.map { UnsafePointer($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
