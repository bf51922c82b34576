import CLibPQ
import Foundation
import Support

/// One libpq connection. Used by one task at a time; `cancel()` may be called from any thread.
public final class PostgresConnection: @unchecked Sendable {
    let conn: OpaquePointer
    private let cancelHandle: OpaquePointer?
    let cancelLock = NSLock()
    var closed = false
    /// `user@host:port/dbname` for messages — never the password.
    public let endpoint: String
    /// As pg_stat_activity shows it (a pooled session takes its borrower's name: `rename`).
    public internal(set) var applicationName: String
    /// Names of the statements prepared on this session by `pipeline` (see `PipelinedStatement.prepared`).
    var preparedStatements: Set<String> = []

    /// Connects with a URL (`postgresql://...`) or keyword DSN (`host=... dbname=...`).
    /// The session gets DateStyle=ISO, TimeZone=UTC and IntervalStyle=iso_8601 so values decode predictably.
    public init(dsn: String, applicationName: String = "opsctl", connectTimeout: Int = 5) throws {
        // Registered before parsing: a URL libpq refuses (e.g. a bad %-escape) may still hold a password.
        SecretMasker.shared.registerPassword(inDSN: dsn)
        let info = try ConnectionInfo.parse(dsn)
        SecretMasker.shared.register(info.password)
        endpoint = info.endpoint
        self.applicationName = String(applicationName.prefix(63))
        let keys = ["dbname", "application_name", "connect_timeout"]
        let timeout = info.options["connect_timeout"] ?? String(connectTimeout)
        let values = [dsn, self.applicationName, timeout]
        let handle: OpaquePointer? = withCStringArray(keys) { k in
            withCStringArray(values) { v in PQconnectdbParams(k, v, 1) }
        }
        guard let handle else {
            throw PostgresError(kind: .connection, message: "out of memory creating a connection", endpoint: info.endpoint)
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let raw = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(handle)
            throw PostgresError(kind: .connection, message: Self.summarise(connectError: raw), endpoint: info.endpoint,
                                nextStep: Self.nextStep(forConnectError: raw))
        }
        conn = handle
        // Server NOTICEs (e.g. "schema already exists, skipping") are not for the operator's terminal.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        cancelHandle = PQgetCancel(handle)
        _ = try execute(Self.sessionSetup)
    }

    static let sessionSetup = "SET DateStyle = ISO; SET TimeZone = 'UTC'; SET IntervalStyle = iso_8601"

    /// Connects with the DSN held by an environment variable (default `DATABASE_URL`).
    public convenience init(environmentVariable name: String = "DATABASE_URL",
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            applicationName: String = "opsctl", connectTimeout: Int = 5) throws {
        guard let dsn = environment[name], !dsn.isEmpty else {
            throw PostgresError(kind: .configuration, message: "\(name) is not set",
                                nextStep: "export \(name)=postgresql://user@host/db, or point the step at another variable")
        }
        try self.init(dsn: dsn, applicationName: applicationName, connectTimeout: connectTimeout)
    }

    deinit { close() }

    public func close() {
        cancelLock.withLock {
            guard !closed else { return }
            closed = true
            if let cancelHandle { PQfreeCancel(cancelHandle) }
            PQfinish(conn)
        }
    }

    private var isClosed: Bool { cancelLock.withLock { closed } }

    /// Server version as an integer (e.g. 150018) and as text (e.g. "15.18"); 0 once closed.
    public var serverVersion: (number: Int, text: String) {
        let n = isClosed ? 0 : Int(PQserverVersion(conn))
        let major = n / 10000
        return (n, "\(major).\(n % 10000)")
    }

    /// Backend pid of this session.
    public var backendPID: Int { isClosed ? 0 : Int(PQbackendPID(conn)) }

    /// Runs one statement with bound parameters (PQexecParams, text format).
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresBindable] = []) throws -> QueryResult {
        let texts = parameters.map { $0.postgresText }
        // C strings end at NUL: such a value would be silently truncated (and Postgres text cannot hold it).
        if let index = texts.firstIndex(where: { $0?.utf8.contains(0) == true }) {
            throw PostgresError(kind: .query, message: "parameter $\(index + 1) contains a NUL byte, which Postgres text cannot store",
                                endpoint: endpoint, nextStep: "strip or encode the NUL byte (e.g. as bytea or base64) before sending it")
        }
        try beginStatement()
        let result: OpaquePointer? = withOptionalCStringArray(texts) { values in
            PQexecParams(conn, sql, Int32(texts.count), nil, values, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Runs one or more statements without parameters (simple protocol): SET, BEGIN, migration scripts.
    @discardableResult
    public func execute(_ sql: String) throws -> QueryResult {
        try beginStatement()
        return try consume(PQexec(conn, sql))
    }

    /// Refuses a closed connection (its libpq handle is freed). A cancel() that arrived while no statement
    /// ran (the server ignores those) stops this statement instead, once: a step that timed out just before
    /// its query must not wait for the query's own timeout, and the flag must not linger to relabel a later
    /// statement_timeout as "cancelled".
    func beginStatement() throws {
        let (isOpen, wasCancelled) = cancelLock.withLock { () -> (Bool, Bool) in
            defer { cancelRequested = false }
            return (!closed, cancelRequested)
        }
        guard isOpen else {
            throw PostgresError(kind: .connection, message: "connection already closed", endpoint: endpoint,
                                nextStep: "open a new connection")
        }
        if wasCancelled {
            throw PostgresError(kind: .cancelled, message: "cancelled by opsctl before the statement started",
                                endpoint: endpoint)
        }
    }

    /// Sets session timeouts (milliseconds; 0 disables).
    public func setTimeouts(statementMs: Int? = nil, lockMs: Int? = nil, local: Bool = false) throws {
        let scope = local ? "SET LOCAL" : "SET"
        var sql = ""
        if let statementMs { sql += "\(scope) statement_timeout = \(max(0, statementMs));" }
        if let lockMs { sql += "\(scope) lock_timeout = \(max(0, lockMs));" }
        if !sql.isEmpty { try execute(sql) }
    }

    /// Runs `body` in a READ ONLY transaction with a statement timeout; always ends the transaction.
    public func readOnly<T>(statementTimeoutMs: Int = 30_000, _ body: (PostgresConnection) throws -> T) throws -> T {
        try execute("BEGIN READ ONLY; SET LOCAL statement_timeout = \(max(0, statementTimeoutMs))")
        return try finishTransaction(body)
    }

    /// Runs `body` in a read-write transaction with lock and statement timeouts.
    public func transaction<T>(statementTimeoutMs: Int = 60_000, lockTimeoutMs: Int = 5_000,
                               _ body: (PostgresConnection) throws -> T) throws -> T {
        try execute("BEGIN; SET LOCAL statement_timeout = \(max(0, statementTimeoutMs)); SET LOCAL lock_timeout = \(max(0, lockTimeoutMs))")
        return try finishTransaction(body)
    }

    private func finishTransaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        do {
            let value = try body(self)
            try execute("COMMIT")
            return value
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }

    /// Asks the server to cancel the statement running on this connection (thread safe).
    public func cancel() {
        cancelLock.withLock {
            guard !closed, let cancelHandle else { return }
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(cancelHandle, &buffer, 256)
            cancelRequested = true
        }
    }

    private var cancelRequested = false

    /// Forgets a cancel() that arrived while no statement ran, so the next statement runs: the cleanup
    /// after an interruption (ROLLBACK, recording what happened) must not be refused by it.
    public func clearPendingCancel() {
        cancelLock.withLock { cancelRequested = false }
    }

    // MARK: - Advisory locks (session level, keyed by a readable name hashed server-side)

    /// Takes the lock if free. Returns false when another session holds it.
    public func tryAdvisoryLock(_ name: String) throws -> Bool {
        try query("SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS got", [name]).first?["got"].bool ?? false
    }

    /// Waits up to `timeout` seconds for the lock, asking again after 50 ms, then twice as long each
    /// time up to `maxDelay` seconds. Returns false on timeout. Once `cancellation` is cancelled (an
    /// interrupt) the wait ends at once, throwing `.cancelled`: a waiter never sleeps through Ctrl-C.
    public func advisoryLock(_ name: String, timeout: Double, maxDelay: Double = 1,
                             cancellation: Cancellation? = nil) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        // Signalled by the cancellation: the sleep between attempts ends early on an interrupt.
        let wake = DispatchSemaphore(value: 0)
        cancellation?.onCancel { wake.signal() }
        var delay = 0.05
        while true {
            if let cancellation, cancellation.isCancelled {
                throw PostgresError(kind: .cancelled, message: "\(cancellation.reason ?? "interrupted") while waiting for the advisory lock \(name)",
                                    endpoint: endpoint)
            }
            if try tryAdvisoryLock(name) { return true }
            if Date() >= deadline { return false }
            _ = wake.wait(timeout: .now() + min(delay, max(0, deadline.timeIntervalSinceNow)))
            delay = min(delay * 2, maxDelay)
        }
    }

    @discardableResult
    public func advisoryUnlock(_ name: String) throws -> Bool {
        try query("SELECT pg_advisory_unlock(hashtextextended($1, 0)) AS released", [name]).first?["released"].bool ?? false
    }

    /// Who holds the advisory lock `name`: pid, application_name, since (from pg_stat_activity).
    public func advisoryLockHolder(_ name: String) throws -> (pid: Int, application: String, since: Date?)? {
        let r = try query("""
            SELECT a.pid, a.application_name, a.backend_start
              FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($1, 0)
             LIMIT 1
            """, [name])
        guard let row = r.first, let pid = row["pid"].int else { return nil }
        return (pid, row["application_name"].string ?? "", row["backend_start"].date)
    }

    // MARK: - Result handling

    func consume(_ result: OpaquePointer?) throws -> QueryResult {
        guard let result else {
            throw PostgresError(kind: .connection, message: connectionMessage(), endpoint: endpoint,
                                nextStep: "check that the server is up and reachable")
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return decode(result)
        default:
            throw error(from: result)
        }
    }

    func decode(_ result: OpaquePointer) -> QueryResult {
        let nFields = Int(PQnfields(result)), nRows = Int(PQntuples(result))
        var columns: [QueryResult.Column] = []
        columns.reserveCapacity(nFields)
        for c in 0..<nFields {
            columns.append(.init(name: String(cString: PQfname(result, Int32(c))), typeOID: UInt32(PQftype(result, Int32(c)))))
        }
        let names = columns.map(\.name)
        var rows: [Row] = []
        rows.reserveCapacity(nRows)
        for r in 0..<nRows {
            var values: [PostgresValue] = []
            values.reserveCapacity(nFields)
            for c in 0..<nFields {
                if PQgetisnull(result, Int32(r), Int32(c)) == 1 {
                    values.append(.null)
                } else {
                    let raw = String(cString: PQgetvalue(result, Int32(r), Int32(c)))
                    values.append(PostgresDecoder.decode(raw, oid: columns[c].typeOID))
                }
            }
            rows.append(Row(columnNames: names, values: values))
        }
        let tuples = String(cString: PQcmdTuples(result))
        return QueryResult(columns: columns, rows: rows, affectedRows: Int(tuples) ?? 0,
                           commandTag: String(cString: PQcmdStatus(result)))
    }

    func error(from result: OpaquePointer) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let p = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: p)
        }
        let sqlState = field("C")
        var message = field("M") ?? connectionMessage()
        if PQstatus(conn) != CONNECTION_OK {
            return PostgresError(kind: .connection, message: "connection lost: \(Self.summarise(connectError: message))",
                                 endpoint: endpoint,
                                 sqlState: sqlState, nextStep: "check that the server is up and reachable")
        }
        var kind = PostgresError.Kind.query
        let wasCancelled = cancelLock.withLock { () -> Bool in
            defer { cancelRequested = false }
            return cancelRequested
        }
        if sqlState == "57014" {
            if wasCancelled { kind = .cancelled; message = "cancelled by opsctl: \(message)" } else { kind = .timeout }
        } else if sqlState == "55P03" {
            kind = .timeout
        }
        return PostgresError(kind: kind, message: message, endpoint: endpoint, sqlState: sqlState,
                             severity: field("V") ?? field("S"), detail: field("D"), hint: field("H"),
                             position: field("P").flatMap { Int($0) })
    }

    func connectionMessage() -> String {
        String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// libpq's connect errors are multi-line; keep the first meaningful line.
    static func summarise(connectError raw: String) -> String {
        let lines = raw.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let first = lines.first ?? "could not connect"
        // `connection to server at "h" (1.2.3.4), port 5432 failed: Connection refused` -> the reason;
        // the endpoint is already named in front of every message.
        if first.hasPrefix("connection to server"), let range = first.range(of: "failed: ") {
            return "could not connect: " + first[range.upperBound...]
        }
        return first
    }

    static func nextStep(forConnectError raw: String) -> String {
        let lower = raw.lowercased()
        if lower.contains("password authentication failed") { return "check the user and password in the database URL" }
        if lower.contains("does not exist") && lower.contains("database") { return "check the database name in the URL" }
        if lower.contains("could not translate host name") { return "check the host name (DNS) in the database URL" }
        if lower.contains("connection refused") || lower.contains("no such file") {
            return "is Postgres running and listening there? (opsctl sandbox up starts a local one)"
        }
        if lower.contains("timeout") { return "the host did not answer in time: check network, firewall, host and port" }
        if lower.contains("ssl") { return "check sslmode and the server certificate" }
        return "check the database URL and that the server accepts connections"
    }
}

/// The non-secret parts of a DSN, parsed by libpq itself (PQconninfoParse).
struct ConnectionInfo {
    var options: [String: String]
    var password: String? { options["password"] }

    var endpoint: String {
        let user = options["user"].map { $0 + "@" } ?? ""
        let host = options["host"] ?? options["hostaddr"] ?? "localhost"
        let port = options["port"].map { ":" + $0 } ?? ""
        let db = options["dbname"].map { "/" + $0 } ?? ""
        return user + host + port + db
    }

    static func parse(_ dsn: String) throws -> ConnectionInfo {
        // The first libpq call of every connection and client command line.
        try PostgresLibrary.load()
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(dsn, &errorMessage) else {
            var reason = "malformed"
            if let errorMessage {
                reason = String(cString: errorMessage).trimmingCharacters(in: .whitespacesAndNewlines)
                PQfreemem(errorMessage)
            }
            // libpq quotes the offending fragment, which may be part of a password: drop quoted text.
            reason = reason.replacingOccurrences(of: "\"[^\"]*\"", with: "\"…\"", options: .regularExpression)
            throw PostgresError(kind: .configuration, message: "malformed database URL: \(reason)",
                                nextStep: "expected postgresql://user@host:port/dbname (password in the URL or PGPASSWORD) or key=value pairs")
        }
        defer { PQconninfoFree(parsed) }
        var options: [String: String] = [:]
        var p = parsed
        while let keyword = p.pointee.keyword {
            if let value = p.pointee.val { options[String(cString: keyword)] = String(cString: value) }
            p = p.advanced(by: 1)
        }
        return ConnectionInfo(options: options)
    }
}

private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let dup = strings.map { strdup($0) }
    defer { dup.forEach { free($0) } }
    var pointers: [UnsafePointer<CChar>?] = dup.map { UnsafePointer($0) }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

private func withOptionalCStringArray<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    if strings.isEmpty { return body(nil) }
    let dup = strings.map { $0.map { strdup($0) } ?? nil }
    defer { dup.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = dup.map { $0.map { UnsafePointer($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
