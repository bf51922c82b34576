import Foundation
import Postgres
import Support

extension Migrator {
    /// Applies pending migrations up to `target` (all when nil), each in its own transaction unless
    /// it cannot run in one. Serialised by a session advisory lock: concurrent appliers wait, then
    /// find nothing to do. Throws before anything runs (bad files, syntax errors, blocked history,
    /// lock held too long); a migration that fails part way is reported in `MigrationRunReport.failure`.
    public func apply(to target: Int64? = nil, dryRun: Bool = false) throws -> MigrationRunReport {
        let set = try files()
        if let dup = set.problems.first(where: { $0.rule == "duplicate-version" }) {
            throw MigrationError(.invalidInput, dup.message, location: SourceLocation(file: dup.file, line: 1, column: 1),
                                 version: dup.version, nextStep: "renumber one of the files; nothing was applied")
        }
        return try withSession(resets: !dryRun) { db in try apply(set, db, to: target, dryRun: dryRun) }
    }

    private func apply(_ set: MigrationSet, _ db: PostgresConnection, to target: Int64?, dryRun: Bool) throws -> MigrationRunReport {
        var parsed: [String: SQLScript] = [:]
        if dryRun {
            // What would run, and does it parse? (No lock needed to say so.)
            let status = try readStatus(set, db)
            try refuseIfBlocked(status)
            let todo = try pendingScripts(set, status, target: target, parsed: &parsed)
            return MigrationRunReport(direction: .up, dryRun: true, planned: todo.map { Self.plan($0.0, $0.1, down: false) },
                             completed: [], failure: nil, waitedFor: nil, currentVersion: status.current)
        }
        // The lock lives on a session of its own: DISCARD ALL or pg_advisory_unlock_all() in a migration
        // (or in any function one calls) would release it on the migrations' session, silently, mid-apply.
        let lock = try MigrationLock(dsn: dsn, table: history, applicationName: config.applicationName)
        defer { lock.release() }
        if try !lock.tryAcquire() {
            // Another applier is at work: say now what is wrong (blocked history, a syntax error) rather
            // than after waiting for it.
            let status = try readStatus(set, db)
            try refuseIfBlocked(status)
            _ = try pendingScripts(set, status, target: target, parsed: &parsed)
            try lock.acquire(timeout: config.lockWait, cancellation: cancellation)
        }
        PhaseClock.mark("migration lock taken")
        let waited = lock.waitedFor.map { LockHolder(pid: $0.pid, application: $0.application) }
        // Under the lock, what we read is what we apply to.
        var status = try readStatus(set, db, underLock: true)
        if !status.historyExists {
            try guarded("creating \(history.displayName)") { try history.ensure(db) }
            status.historyExists = true   // and empty
        }
        try refuseIfBlocked(status)
        let todo = try pendingScripts(set, status, target: target, parsed: &parsed)
        PhaseClock.mark("history read under the lock: \(todo.count) pending")

        var report = MigrationRunReport(direction: .up, dryRun: false, planned: todo.map { Self.plan($0.0, $0.1, down: false) },
                               completed: [], failure: nil, waitedFor: waited, currentVersion: status.current)
        let runner = StatementRunner(db: db, config: config, cancellation: cancellation)
        if config.singleTransaction, todo.count > 1 {
            return runAllInOneTransaction(todo, runner: runner, report: report)
        }
        // The history's execution order, counted here: we hold the lock, so nobody else writes it (a
        // max() over the history in every insert made an apply of 1,000 migrations quadratic).
        var order = status.versions.compactMap { $0.entry?.executionOrder }.max() ?? 0
        if todo.isEmpty { return report }
        applyInWindow(todo, runner: runner, holderKey: try lock.markHolder(), report: &report, order: &order)
        return report
    }

    /// Files vs history. Read without holding the migration lock (`underLock` false), a `partial` row may
    /// be a non-transactional migration another applier is running right now: if that applier holds the
    /// lock, the row says so (`applying`) instead of blocking, and whoever applies next waits for the lock
    /// and reads the history again under it.
    func readStatus(_ set: MigrationSet, _ db: PostgresConnection, underLock: Bool = false) throws -> MigrationStatus {
        try guarded("reading \(history.displayName)") {
            let exists = try history.exists(db)
            var rows = exists ? try history.rows(db) : []
            // The holder's pid goes in the message: the operator can see who is applying.
            var holder: Int?
            // Nobody holding the lock may only mean the applier finished and let go after the rows were
            // read: the rows are read again, and a partial row counts as a crash's leftover only when it
            // is unchanged with nobody holding the lock (an applier taking the lock meanwhile reads it
            // under the lock, finds it partial and stops, so it cannot change it). Bounded: appliers
            // coming and going between reads end it as well.
            var looks = 0
            while !underLock, rows.contains(where: { $0.state == .partial }) {
                if let h = try db.advisoryLockHolder(MigrationLock.key(history)) {
                    holder = h.pid
                    break
                }
                let again = try history.rows(db)
                looks += 1
                if Self.partialRows(again) == Self.partialRows(rows) || looks == 5 {
                    rows = again
                    break
                }
                rows = again
            }
            PhaseClock.mark("history read")
            return MigrationStatus.compute(set, history: rows, historyExists: exists,
                                           allowOutOfOrder: config.allowOutOfOrder, applyingElsewhere: holder)
        }
    }

    /// A partial row and how far it got: a row that changed between two reads is being applied.
    static func partialRows(_ rows: [HistoryEntry]) -> [String] {
        rows.filter { $0.state == .partial }.map { "\($0.version)@\($0.statementsDone)" }
    }

    func refuseIfBlocked(_ status: MigrationStatus) throws {
        guard let first = status.blocking.first else { return }
        let all = status.blocking.map { "\($0.version) \($0.state.rawValue)" }.joined(separator: ", ")
        throw MigrationError(.blocked, "cannot apply: \(all) — \(first.message)", version: first.version,
                             nextStep: "run `opsctl migrate status` and `opsctl migrate repair \(first.version)`")
    }

    /// Pending (and allowed out-of-order) migrations up to `target`, parsed; the first syntax error throws.
    /// `parsed` keeps the scripts between the look before the lock and the one under it (parsing a
    /// 200k-statement file twice is not free).
    func pendingScripts(_ set: MigrationSet, _ status: MigrationStatus, target: Int64?,
                        parsed: inout [String: SQLScript]) throws -> [(Migration, SQLScript)] {
        let retry = Set(status.versions.filter { $0.state == .failed && !$0.blocksApply }.map(\.version))
        let wanted = Set(status.versions.filter { $0.state == .pending || ($0.state == .outOfOrder && !$0.blocksApply) }.map(\.version))
            .union(retry)
        let chosen = set.migrations.filter { m in wanted.contains(m.version) && (target.map { m.version <= $0 } ?? true) }
        return try chosen.map { m in
            if let script = parsed[m.upFile], script.source == m.up { return (m, script) }
            let script = try Self.script(m, cancellation: cancellation)
            parsed[m.upFile] = script
            return (m, script)
        }
    }

    /// Runs one migration (up or down) with retries on lock timeout and records the outcome.
    /// `executionOrder`: the history's execution order of this apply (nil: the next after the history's highest).
    func runMigration(_ m: Migration, _ script: SQLScript, runner: StatementRunner, down: Bool,
                      executionOrder: Int? = nil) -> Result<CompletedMigration, MigrationError> {
        if cancellation.isCancelled {
            return .failure(interrupted("\(m.label) was not started", version: m.version))
        }
        let reason = Self.transactionMode(m, script, down: down)
        return reason == nil ? runInTransaction(m, script, runner: runner, down: down, executionOrder: executionOrder)
            : runStatementByStatement(m, script, runner: runner, down: down, executionOrder: executionOrder)
    }

    /// A finished migration, in the history: a rollback removes its row; an apply is verified (the
    /// objects it creates exist) and recorded. `how` ("without a transaction") goes into the event log.
    private func recordFinished(_ m: Migration, _ script: SQLScript, down: Bool, ms: Int, how: String? = nil,
                                executionOrder: Int?, _ db: PostgresConnection) throws {
        let took = (how.map { $0 + " " } ?? "") + "in \(ms) ms"
        if down {
            try history.delete(db, version: m.version)
            try history.event(db, version: m.version, action: "rollback", detail: "\(m.downFile ?? "") \(took)")
            return
        }
        try verifyCreated(m, script, db)
        let total = script.statements.count
        try history.record(db, m, state: .applied, durationMs: ms, statementsDone: total, statementsTotal: total,
                           executionOrder: executionOrder)
        try history.event(db, version: m.version, action: "apply", detail: "\(m.upFile) \(took)")
    }

    /// The objects a migration creates must exist after it ran (`IF NOT EXISTS` on a twin creates nothing).
    private func verifyCreated(_ m: Migration, _ script: SQLScript, _ db: PostgresConnection) throws {
        let missing = try ObjectVerifier.missing(script.effects.created, db)
        guard missing.isEmpty else {
            throw MigrationError(.verification, "after running, these objects do not exist: " + missing.map(\.description).joined(separator: ", "),
                                 location: SourceLocation(file: m.upFile, line: 1, column: 1), version: m.version)
        }
    }

    /// `attempt`: attempts already made (a migration whose first attempt failed in a window goes on here).
    func runInTransaction(_ m: Migration, _ script: SQLScript, runner: StatementRunner, down: Bool,
                          executionOrder: Int?, attempt made: Int = 0) -> Result<CompletedMigration, MigrationError> {
        let db = runner.db
        var attempt = made
        while true {
            attempt += 1
            let started = Date()
            do {
                if Self.canPipeline(script) {
                    try runPipelined(m, script, runner: runner, down: down, executionOrder: executionOrder)
                    return .success(CompletedMigration(version: m.version, name: m.name, file: down ? (m.downFile ?? "") : m.upFile,
                                                       durationMs: Int(Date().timeIntervalSince(started) * 1000),
                                                       statements: script.statements.count, transactional: true, attempts: attempt))
                }
                try guarded("starting the transaction") {
                    try db.execute("BEGIN; SET LOCAL lock_timeout = \(config.lockTimeoutMs); SET LOCAL statement_timeout = \(config.statementTimeoutMs)")
                }
                for s in script.statements { try runner.run(s, in: script, version: m.version) }
                let ms = Int(Date().timeIntervalSince(started) * 1000)
                try guarded("recording \(m.label)") {
                    try recordFinished(m, script, down: down, ms: ms, executionOrder: executionOrder, db)
                    try db.execute("COMMIT")
                }
                return .success(CompletedMigration(version: m.version, name: m.name, file: down ? (m.downFile ?? "") : m.upFile,
                                                   durationMs: ms, statements: script.statements.count, transactional: true, attempts: attempt))
            } catch let error as MigrationError {
                switch afterFailure(error, of: m, script, attempt: attempt, runner: runner, down: down) {
                case .retry: continue
                case let .stop(error): return .failure(error)
                }
            } catch {
                db.clearPendingCancel()
                _ = try? db.execute("ROLLBACK")
                return .failure(MigrationError(.statementFailed, "\(error)", version: m.version))
            }
        }
    }

    enum AfterFailure { case retry, stop(MigrationError) }

    /// A transactional migration failed on attempt `attempt`: rolls back, then either waits to try
    /// again (a lock timeout with retries left) or records the failure (rolled back: nothing of it is
    /// applied; the evidence stays for status and repair) and says so.
    func afterFailure(_ error: MigrationError, of m: Migration, _ script: SQLScript, attempt: Int, runner: StatementRunner,
                      down: Bool) -> AfterFailure {
        let db = runner.db
        var error = error
        // After an interrupt the cleanup must still reach the server.
        db.clearPendingCancel()
        _ = try? db.execute("ROLLBACK")
        if error.kind == .interrupted {
            return .stop(recordInterrupted(m, error, down: down, total: script.statements.count, transactional: true, db))
        }
        if error.kind == .lockTimeout, let i = error.statementIndex {
            let blockers = runner.blockers(of: script.statements[i])
            if attempt <= config.lockRetries {
                if !pause(runner.backoff(attempt)) {
                    return .stop(recordInterrupted(m, interrupted("waiting to retry \(m.label)", version: m.version),
                                                   down: down, total: script.statements.count, transactional: true, db))
                }
                return .retry
            }
            error.message = "lock_timeout (\(config.lockTimeoutMs) ms) on every one of \(attempt) attempts: "
                + StatementRunner.describe(blockers)
            error.nextStep = "ask that session to finish (or terminate it), then apply again; nothing of \(m.label) was applied"
        }
        if !down, error.kind != .connection {
            try? history.record(db, m, state: .failed, durationMs: nil, statementsDone: 0,
                                statementsTotal: script.statements.count, error: error)
            try? history.event(db, version: m.version, action: "apply-failed", detail: error.description)
        }
        return .stop(error)
    }

    /// Sleeps unless the run is interrupted; false when it is.
    func pause(_ seconds: Double) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if cancellation.isCancelled { return false }
            Thread.sleep(forTimeInterval: min(0.05, max(0, end.timeIntervalSinceNow)))
        }
        return !cancellation.isCancelled
    }

    /// What an interrupt leaves in the history: a transactional migration was rolled back, so it stays
    /// pending (up) or applied (down); one run without a transaction is recorded as failed with the
    /// statements that ran, so `migrate status` blocks until `migrate repair`. Either way an event says so.
    func recordInterrupted(_ m: Migration, _ error: MigrationError, down: Bool, total: Int, transactional: Bool,
                           _ db: PostgresConnection) -> MigrationError {
        var error = error
        let done = transactional ? 0 : (error.statementIndex ?? 0)
        if transactional {
            error.message += " — rolled back: nothing of \(m.label) was \(down ? "rolled back" : "applied")"
            error.nextStep = "run the same command again to \(down ? "roll it back" : "apply it")"
        } else {
            let place = done < total ? "statement \(done + 1) of \(total)" : "after its last statement"
            error.message += " (\(place); \(done) ran and stay \(down ? "undone" : "applied"): this migration ran without a transaction)"
            error.nextStep = "see `opsctl migrate repair \(m.version)`"
        }
        if !down && !transactional {
            try? history.record(db, m, state: .failed, durationMs: nil, statementsDone: done, statementsTotal: total, error: error)
        }
        try? history.event(db, version: m.version, action: down ? "rollback-interrupted" : "apply-interrupted", detail: error.description)
        return error
    }

    /// Statement by statement, committing progress after each, so a crash leaves a `partial` row
    /// that says how far it got.
    private func runStatementByStatement(_ m: Migration, _ script: SQLScript, runner: StatementRunner, down: Bool,
                                         executionOrder: Int?) -> Result<CompletedMigration, MigrationError> {
        let db = runner.db
        let started = Date()
        let total = script.statements.count
        var attempts = 1
        // Statements that ran: a failure while recording progress has no statement of its own.
        var ran = 0
        do {
            try guarded("preparing \(m.label)") {
                try db.setTimeouts(statementMs: config.statementTimeoutMs, lockMs: config.lockTimeoutMs)
                if !down {
                    try history.record(db, m, state: .partial, durationMs: nil, statementsDone: 0, statementsTotal: total)
                }
            }
            for (i, s) in script.statements.enumerated() {
                var attempt = 0
                while true {
                    attempt += 1
                    do {
                        try runner.run(s, in: script, version: m.version)
                        break
                    } catch var error as MigrationError where error.kind == .lockTimeout {
                        let blockers = runner.blockers(of: s)
                        if attempt <= config.lockRetries {
                            if !pause(runner.backoff(attempt)) {
                                throw MigrationError(.interrupted, "\(cancellation.reason ?? "interrupted") while waiting to retry",
                                                     location: s.location, version: m.version, statementIndex: s.index, statement: s.summary)
                            }
                            continue
                        }
                        error.message = "lock_timeout (\(config.lockTimeoutMs) ms) on every one of \(attempt) attempts: "
                            + StatementRunner.describe(blockers)
                        throw error
                    }
                }
                attempts = max(attempts, attempt)
                ran = i + 1
                if !down { try guarded("recording progress") { try history.progress(db, version: m.version, done: i + 1) } }
            }
            let ms = Int(Date().timeIntervalSince(started) * 1000)
            try guarded("recording \(m.label)") {
                try recordFinished(m, script, down: down, ms: ms, how: "without a transaction", executionOrder: executionOrder, db)
            }
            return .success(CompletedMigration(version: m.version, name: m.name, file: down ? (m.downFile ?? "") : m.upFile,
                                               durationMs: ms, statements: total, transactional: false, attempts: attempts))
        } catch var error as MigrationError {
            db.clearPendingCancel()
            if error.statementIndex == nil { error.statementIndex = ran }
            if error.kind == .interrupted {
                return .failure(recordInterrupted(m, error, down: down, total: total, transactional: false, db))
            }
            let done = error.statementIndex ?? 0
            error.message += " (statement \(done + 1) of \(total); \(done) ran and stay applied: this migration ran without a transaction)"
            if error.nextStep == nil { error.nextStep = "see `opsctl migrate repair \(m.version)`" }
            if !down, error.kind != .connection {
                try? history.record(db, m, state: .failed, durationMs: nil, statementsDone: done,
                                    statementsTotal: total, error: error)
                try? history.event(db, version: m.version, action: "apply-failed", detail: error.description)
            }
            return .failure(error)
        } catch {
            return .failure(MigrationError(.statementFailed, "\(error)", version: m.version))
        }
    }

    /// `single_transaction` mode: all pending migrations commit together or not at all.
    private func runAllInOneTransaction(_ todo: [(Migration, SQLScript)], runner: StatementRunner, report: MigrationRunReport) -> MigrationRunReport {
        var report = report
        if let (m, script) = todo.first(where: { Self.transactionMode($0.0, $0.1) != nil }) {
            report.failure = MigrationError(.invalidInput, "single-transaction mode, but \(m.upFile) cannot run in a transaction: "
                                            + (Self.transactionMode(m, script) ?? ""), version: m.version,
                                            nextStep: "apply it separately (turn single_transaction off)")
            return report
        }
        let db = runner.db
        var done: [CompletedMigration] = []
        var current: Migration?
        do {
            try guarded("starting the transaction") {
                try db.execute("BEGIN; SET LOCAL lock_timeout = \(config.lockTimeoutMs); SET LOCAL statement_timeout = \(config.statementTimeoutMs)")
            }
            for (m, script) in todo {
                current = m
                let started = Date()
                for s in script.statements { try runner.run(s, in: script, version: m.version) }
                try guarded("verifying \(m.label)") { try verifyCreated(m, script, db) }
                let ms = Int(Date().timeIntervalSince(started) * 1000)
                try guarded("recording \(m.label)") {
                    try history.record(db, m, state: .applied, durationMs: ms, statementsDone: script.statements.count,
                                       statementsTotal: script.statements.count)
                    try history.event(db, version: m.version, action: "apply", detail: "\(m.upFile) in \(ms) ms (single transaction)")
                }
                done.append(CompletedMigration(version: m.version, name: m.name, file: m.upFile, durationMs: ms,
                                               statements: script.statements.count, transactional: true, attempts: 1))
            }
            try guarded("committing") { try db.execute("COMMIT") }
            report.completed = done
            report.currentVersion = max(report.currentVersion, todo.map(\.0.version).max() ?? 0)
        } catch {
            db.clearPendingCancel()
            _ = try? db.execute("ROLLBACK")
            var e = error as? MigrationError ?? MigrationError(.statementFailed, "\(error)")
            e.message += " (single transaction: nothing was applied)"
            if let m = current, e.kind != .connection {
                try? history.record(db, m, state: .failed, durationMs: nil, statementsDone: 0, statementsTotal: nil, error: e)
            }
            report.failure = e
        }
        return report
    }
}
