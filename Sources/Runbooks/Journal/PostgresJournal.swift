import Checks
import Foundation
import Postgres
import Support

/// The run journal in the target database (schema `opsctl`), with runbook locks as session
/// advisory locks on the journal's own connection. A run also holds `opsctl-run:<id>`, so a run
/// whose process was killed shows as `interrupted`: its row says running, but nobody holds the lock.
public final class PostgresJournal: RunJournal, @unchecked Sendable {
    let connection: PostgresConnection
    private let lock = NSLock()
    private var heldLocks: [String] = []
    /// Step rows are encoded and written in order on this queue, off the scheduler's thread: the next
    /// step starts while the rows travel. Whatever else uses the connection during a run drains it first.
    private let writer = DispatchQueue(label: "opsctl.journal.steps")

    public var location: String { lock.withLock { fallback }?.location ?? "database \(connection.endpoint) (schema opsctl)" }

    public init(connection: PostgresConnection) throws {
        self.connection = connection
        try Self.ensureSchema(connection)
        schemaChecked = true
    }

    /// The journal of a run: its tables are checked (and created) on the writer queue the first time a
    /// statement needs them, after the runbook lock is asked for (an advisory lock needs no table). The
    /// first steps then start once the lock is held, while the tables are made; they create their own
    /// tables in the same schema, which is created under one lock (OpsctlSchema), so the two cannot collide.
    public init(connectionForRun connection: PostgresConnection) {
        self.connection = connection
    }

    /// Whether the tables were checked (touched on the writer queue only).
    private var schemaChecked = false
    /// Set when the database refused the tables (no CREATE right, a read-only server): the run is then
    /// recorded in the file journal, as when the database is unreachable (guarded by `lock`).
    private var fallback: FileJournal?

    /// On the writer queue: creates the tables the first time something needs them. The file journal that
    /// records instead when they could not be created; nil when they are there.
    private func tablesOrFallback() -> FileJournal? {
        if !schemaChecked {
            schemaChecked = true
            do { try Self.ensureSchema(connection) } catch { lock.withLock { fallback = FileJournal() } }
            PhaseClock.mark("journal tables ready")
        }
        return lock.withLock { fallback }
    }

    /// Creates the tables once (OpsctlSchema: concurrent first runs are serialised; steps creating their
    /// own tables in the schema meanwhile cannot collide with them).
    static func ensureSchema(_ db: PostgresConnection) throws {
        let exists = try db.query("SELECT to_regclass('opsctl.step_results') IS NOT NULL AS ok").first?["ok"].bool ?? false
        if exists { return }
        try OpsctlSchema.create(db, """
            CREATE TABLE IF NOT EXISTS opsctl.runs (
                run_id       text PRIMARY KEY,
                runbook      text NOT NULL,
                runbook_file text,
                environment  text,
                actor        text NOT NULL,
                host         text NOT NULL,
                git_commit   text,
                params       jsonb NOT NULL DEFAULT '{}',
                dry_run      boolean NOT NULL DEFAULT false,
                status       text NOT NULL,
                aborted      text,
                started_at   timestamptz NOT NULL,
                finished_at  timestamptz,
                duration_ms  double precision,
                pid          integer,
                report       jsonb
            );
            CREATE INDEX IF NOT EXISTS runs_runbook_started ON opsctl.runs (runbook, started_at DESC);
            CREATE TABLE IF NOT EXISTS opsctl.step_results (
                run_id      text NOT NULL REFERENCES opsctl.runs (run_id) ON DELETE CASCADE,
                step_id     text NOT NULL,
                position    integer NOT NULL,
                status      text NOT NULL,
                message     text NOT NULL,
                attempts    integer NOT NULL,
                started_at  timestamptz NOT NULL,
                duration_ms double precision NOT NULL,
                result      jsonb NOT NULL,
                PRIMARY KEY (run_id, step_id)
            )
            """, tables: "journal")
    }

    public func acquireLock(name: String, wait: Double?) -> String? {
        writer.sync { takeLock(name: name, wait: wait) }
    }

    /// On the writer queue, ahead of the run row: the run's read-only steps start meanwhile, and
    /// nothing else uses the connection while the lock is asked for (or waited for with --wait).
    public func acquireLock(name: String, wait: Double?, settled: @escaping @Sendable (String?) -> Void) {
        writer.async { [self] in settled(takeLock(name: name, wait: wait)) }
    }

    private func takeLock(name: String, wait: Double?) -> String? {
        do {
            let got = try wait.map { try connection.advisoryLock(name, timeout: $0) } ?? connection.tryAdvisoryLock(name)
            if got {
                lock.withLock { heldLocks.append(name) }
                return nil
            }
            var message = "another run holds the lock '\(name)'"
            if let holder = try connection.advisoryLockHolder(name) {
                let since = holder.since.map { " since \(ISO8601DateFormatter().string(from: $0))" } ?? ""
                message += ": pid \(holder.pid) (\(holder.application))\(since)"
            }
            return message + (wait == nil ? "; wait for it to finish or pass --wait 60s" : "; gave up waiting after \(Int(wait!)) s")
        } catch {
            return "could not take the lock '\(name)': \(error)"
        }
    }

    public func runStarted(runID: String, runbook: Runbook, options: RunOptions) {
        lock.withLock { heldLocks.append("opsctl-run:\(runID)") }
        let (name, file, environment, actor, params, dryRun) = (runbook.name, runbook.file, options.environment.name, options.actor,
                                                                RunOrigin.maskedParams(runbook.values).jsonText, options.dryRun)
        // On the writer queue, so the first steps do not wait: the run row costs a round trip and maybe a
        // `git rev-parse`. Step rows queue behind it (the row they reference is always first);
        // runFinished and release drain the queue.
        writer.async { [self, connection] in
            if let file = tablesOrFallback() { return file.runStarted(runID: runID, runbook: runbook, options: options) }
            // One round trip: the session's name (the connection was opened before the runbook was loaded),
            // the run's own lock and its row. The row commits durably (the server's setting); the first
            // step rows switch the session to asynchronous commit (see flush).
            _ = try? connection.pipeline([
                PipelinedStatement("SELECT set_config('application_name', $1, false)", ["opsctl/\(name)/journal"]),
                PipelinedStatement("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", ["opsctl-run:\(runID)"]),
                PipelinedStatement("""
                    INSERT INTO opsctl.runs (run_id, runbook, runbook_file, environment, actor, host, git_commit, params, dry_run,
                                             status, started_at, pid)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, 'running', now(), $10)
                    ON CONFLICT (run_id) DO NOTHING
                    """, [runID, name, file, environment, actor, RunOrigin.host,
                          RunOrigin.gitCommit, params, dryRun, Int(getpid())]),
            ])
        }
    }

    public func stepFinished(runID: String, position: Int, result: StepResult) {
        let first = lock.withLock { () -> Bool in
            pending.append((runID, position, result))
            return pending.count == 1
        }
        // One flush per batch: rows that finish while a flush is in flight go together in the next one,
        // so a slow round trip (a busy server) costs one statement, not one per step.
        if first { writer.async { [self] in flush() } }
    }

    /// Steps finished but not yet sent, in order (taken by `flush` on the writer queue).
    private var pending: [(runID: String, position: Int, result: StepResult)] = []

    private func flush() {
        let batch = lock.withLock { () -> [(runID: String, position: Int, result: StepResult)] in
            defer { pending.removeAll() }
            return pending
        }
        guard !batch.isEmpty else { return }
        if let file = tablesOrFallback() {
            for row in batch { file.stepFinished(runID: row.runID, position: row.position, result: row.result) }
            return
        }
        // started_at travels as epoch seconds (to_timestamp on the server): an ISO 8601 text cost a new
        // ICU date formatter per row, the largest part of a flush.
        // The last row of a step wins (ON CONFLICT cannot touch a row twice in one statement).
        var latest: [String: Int] = [:]
        for (i, row) in batch.enumerated() { latest[row.runID + "\u{0}" + row.result.id] = i }
        let rows: [JSONValue] = batch.enumerated().compactMap { i, row in
            guard latest[row.runID + "\u{0}" + row.result.id] == i else { return nil }
            let r = row.result
            return .object(["run_id": .string(row.runID), "step_id": .string(r.id), "position": .int(row.position),
                            "status": .string(r.status.rawValue), "message": .string(SecretMasker.shared.mask(r.message)),
                            "attempts": .int(r.attempts), "started_at": .double(r.startedAt.timeIntervalSince1970),
                            "duration_ms": .double(r.durationMs), "result": .string(RunOrigin.masked(r))])
        }
        // Step rows commit without waiting for the WAL flush: a kill -9 of opsctl loses nothing the server
        // acknowledged; only a crash of Postgres itself can lose the last rows (≤ 3 × wal_writer_delay),
        // and then the run shows as interrupted and --resume re-runs those steps. A failed step commits
        // durably (the server's own setting), which also flushes every row before it. The setting rides in
        // the same round trip as the rows (it is read when their implicit transaction commits at the sync).
        let durable = batch.contains { $0.result.status.isFailure }
        var statements: [PipelinedStatement] = []
        if durable && asynchronousCommit {
            statements.append(PipelinedStatement("RESET synchronous_commit"))
        } else if !durable && !asynchronousCommit {
            statements.append(PipelinedStatement("SET synchronous_commit = off"))
        }
        // Prepared once per connection: each later batch is only bound and run.
        statements.append(PipelinedStatement("""
            INSERT INTO opsctl.step_results (run_id, step_id, position, status, message, attempts, started_at, duration_ms, result)
            SELECT run_id, step_id, position, status, message, attempts, to_timestamp(started_at), duration_ms, result::jsonb
              FROM jsonb_to_recordset($1::jsonb) AS r(run_id text, step_id text, position integer, status text, message text,
                                                      attempts integer, started_at double precision, duration_ms double precision,
                                                      result text)
            ON CONFLICT (run_id, step_id) DO UPDATE SET status = EXCLUDED.status, message = EXCLUDED.message,
                attempts = EXCLUDED.attempts, duration_ms = EXCLUDED.duration_ms, result = EXCLUDED.result
            """, [JSONValue.array(rows).jsonText], prepared: true))
        if let outcome = try? connection.pipeline(statements), outcome.failure == nil { asynchronousCommit = !durable }
    }

    /// Whether the session commits without waiting for the WAL flush (touched on the writer queue only).
    private var asynchronousCommit = false

    public func runFinished(_ report: RunReport) {
        if let file = writer.sync(execute: { tablesOrFallback() }) { return file.runFinished(report) }
        if asynchronousCommit {
            _ = try? connection.execute("RESET synchronous_commit")
            asynchronousCommit = false
        }
        _ = try? connection.query("""
            UPDATE opsctl.runs SET status = $2, aborted = $3, finished_at = now(), duration_ms = $4, report = $5::jsonb
             WHERE run_id = $1
            """, [report.runID, report.status.rawValue, report.aborted.map { SecretMasker.shared.mask($0) },
                  report.durationMs, RunOrigin.masked(report)])
    }

    public func release(runID: String) {
        writer.sync {}
        let names = lock.withLock { () -> [String] in
            defer { heldLocks.removeAll() }
            return heldLocks
        }
        for name in names.reversed() { _ = try? connection.advisoryUnlock(name) }
    }

    static let statusExpression = """
        CASE WHEN r.status = 'running' AND NOT EXISTS (
                 SELECT 1 FROM pg_locks l
                  WHERE l.locktype = 'advisory' AND l.granted
                    AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended('opsctl-run:' || r.run_id, 0))
             THEN 'interrupted' ELSE r.status END
        """

    public func history(runbook: String?, limit: Int) throws -> [RunSummary] {
        if let file = writer.sync(execute: { tablesOrFallback() }) { return try file.history(runbook: runbook, limit: limit) }
        let rows = try connection.query("""
            SELECT r.run_id, r.runbook, r.environment, r.actor, r.host, \(Self.statusExpression) AS status,
                   r.started_at, r.duration_ms, r.dry_run, r.aborted
              FROM opsctl.runs r
             WHERE $1::text IS NULL OR r.runbook = $1
             ORDER BY r.started_at DESC LIMIT $2
            """, [runbook, limit]).rows
        return rows.map { row in
            RunSummary(runID: row["run_id"].string ?? "", runbook: row["runbook"].string ?? "",
                       environment: row["environment"].string, actor: row["actor"].string ?? "", host: row["host"].string ?? "",
                       status: row["status"].string ?? "", startedAt: row["started_at"].date ?? Date(timeIntervalSince1970: 0),
                       durationMs: row["duration_ms"].double, dryRun: row["dry_run"].bool ?? false, aborted: row["aborted"].string)
        }
    }

    public func params(runID: String) throws -> [String: JSONValue]? {
        if let file = writer.sync(execute: { tablesOrFallback() }) { return try file.params(runID: runID) }
        guard let text = try connection.query("SELECT params::text AS params FROM opsctl.runs WHERE run_id = $1", [runID])
            .first?["params"].string else { return nil }
        return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)).object
    }

    public func report(runID: String) throws -> RunReport? {
        if let file = writer.sync(execute: { tablesOrFallback() }) { return try file.report(runID: runID) }
        guard let run = try connection.query("""
            SELECT r.run_id, r.runbook, r.environment, r.started_at, r.duration_ms, r.dry_run, r.aborted, r.report::text AS report,
                   \(Self.statusExpression) AS status
              FROM opsctl.runs r WHERE r.run_id = $1
            """, [runID]).first else { return nil }
        if let text = run["report"].string, let report = try? RunOrigin.decoder().decode(RunReport.self, from: Data(text.utf8)) {
            return report
        }
        // Interrupted or still running: rebuild from the step rows written so far.
        let steps = try connection.query("SELECT result::text AS result FROM opsctl.step_results WHERE run_id = $1 ORDER BY position", [runID]).rows
        let results = steps.compactMap { row in
            row["result"].string.flatMap { try? RunOrigin.decoder().decode(StepResult.self, from: Data($0.utf8)) }
        }
        let status = run["status"].string ?? "running"
        return RunReport(runID: runID, runbook: run["runbook"].string ?? "", environment: run["environment"].string,
                         startedAt: run["started_at"].date ?? Date(), durationMs: run["duration_ms"].double ?? 0,
                         results: results, aborted: run["aborted"].string ?? (status == "interrupted" ? "interrupted: the run's process ended without finishing" : nil),
                         dryRun: run["dry_run"].bool ?? false)
    }
}
