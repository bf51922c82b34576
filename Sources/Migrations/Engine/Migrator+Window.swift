import Foundation
import Postgres
import Support

extension Migrator {
    /// Applies `todo` in order, keeping up to `config.pipelineWindow` transactional migrations in flight
    /// on the session (each its own transaction behind its own sync point), so the server starts
    /// migration N+1 while the client still reads N's results instead of waiting for it. A migration
    /// sent behind another starts with a guard that fails unless that one's history row is committed:
    /// when N fails, every migration in flight after it stops at its guard (or, N's transaction still
    /// open and aborted, at its BEGIN) and is not applied; the applier then retries N after a lock
    /// timeout (the rest are sent again behind it) or stops. A migration that cannot run in a pipeline
    /// (no transaction, too large, drops the session's prepared statements) waits for the window to
    /// empty and runs alone, as does everything in single-transaction mode (not handled here). An
    /// interrupt stops sending: what is in flight finishes or is cancelled on the server.
    /// `order`: the history's highest execution order, counted on as migrations commit.
    /// `holderKey`: the lock only the session holding the migration lock holds, which every migration in
    /// the window checks first.
    func applyInWindow(_ todo: [(Migration, SQLScript)], runner: StatementRunner, holderKey: String, report: inout MigrationRunReport,
                       order: inout Int) {
        let db = runner.db
        let size = max(1, config.pipelineWindow)
        var next = 0
        /// Sent and not read back yet, oldest first (`index`: position in `todo`).
        var inFlight: [(index: Int, batch: PipelinedMigration, bytes: Int)] = []
        var bytes = 0
        var window: PipelineWindow?
        var lastRead = Date()

        func done(_ result: CompletedMigration) {
            order += 1
            report.completed.append(result)
            report.currentVersion = max(report.currentVersion, result.version)
            lastRead = Date()
        }
        /// A lost session: the oldest migration not read back failed; any sent after it may or may not
        /// have run, which only the history can tell.
        func lost(_ e: PostgresError, at index: Int) {
            window?.abandon()
            window = nil
            let m = todo[index].0
            var error = MigrationError.from(e, "running \(m.label)")
            error.version = m.version
            let unread = inFlight.map { todo[$0.index].0.version }.filter { $0 != m.version }
            if !unread.isEmpty {
                error.message += " (also sent and not confirmed: " + unread.map(String.init).joined(separator: ", ") + ")"
                error.nextStep = "run `opsctl migrate status`: it shows which of them committed"
            }
            report.failure = error
        }

        while next < todo.count || !inFlight.isEmpty {
            // Fill the window: sending never waits for the server.
            while next < todo.count, inFlight.count < size, !cancellation.isCancelled {
                let (m, script) = todo[next]
                guard Self.fitsWindow(m, script) else { break }
                let cost = script.source.utf8.count
                // Never more in flight than one migration's pipeline may hold.
                if !inFlight.isEmpty && bytes + cost > Self.pipelineBytes { break }
                let batch = pipelined(m, script, down: false, executionOrder: order + inFlight.count + 1,
                                      window: (after: inFlight.last.map { todo[$0.index].0.version }, holderKey: holderKey))
                do {
                    if window == nil { window = try PipelineWindow(db) }
                    try window?.send(batch.items)
                } catch let e as PostgresError {
                    if inFlight.isEmpty, window == nil {
                        // Refused before anything was sent (an interrupt that arrived just now): as one at a time.
                        if case let .stop(error) = afterFailure(MigrationError.from(e, "running \(m.label)"), of: m, script, attempt: Int.max,
                                                                runner: runner, down: false) { report.failure = error }
                        return
                    }
                    inFlight.append((next, batch, cost))
                    lost(e, at: inFlight[0].index)
                    return
                } catch {
                    report.failure = MigrationError(.connection, "\(error)", version: m.version)
                    return
                }
                inFlight.append((next, batch, cost))
                bytes += cost
                if next == 0 { PhaseClock.mark("first migration sent") }
                next += 1
            }
            if inFlight.isEmpty {
                // The next one runs alone (or, the run interrupted, says it was not started).
                if let w = window {
                    window = nil
                    do { try w.close() } catch let e as PostgresError { lost(e, at: next); return } catch {}
                }
                guard next < todo.count else { break }
                let (m, script) = todo[next]
                switch runMigration(m, script, runner: runner, down: false, executionOrder: order + 1) {
                case let .success(result): done(result); next += 1
                case let .failure(error): report.failure = error; return
                }
                continue
            }

            let head = inFlight[0]
            let (m, script) = todo[head.index]
            let outcome: PipelineOutcome
            do {
                outcome = try window!.receive()
            } catch let e as PostgresError {
                lost(e, at: head.index)
                return
            } catch {
                report.failure = MigrationError(.connection, "\(error)", version: m.version)
                return
            }
            inFlight.removeFirst()
            bytes -= head.bytes
            let started = lastRead
            guard let error = head.batch.failure(outcome, m, script, runner: runner) else {
                done(CompletedMigration(version: m.version, name: m.name, file: m.upFile,
                                        durationMs: Int(Date().timeIntervalSince(started) * 1000),
                                        statements: script.statements.count, transactional: true, attempts: 1))
                continue
            }
            // Everything sent behind it stops at its guard (or at its BEGIN, the failed transaction still
            // open): read it back, leave pipeline mode, then decide as one at a time would.
            for later in inFlight {
                let o: PipelineOutcome
                do { o = try window!.receive() } catch let e as PostgresError { lost(e, at: later.index); return } catch { break }
                if later.batch.failure(o, todo[later.index].0, todo[later.index].1, runner: runner) == nil {
                    // Cannot happen (its guard needs the row of the one before it); said, not hidden.
                    report.failure = MigrationError(.statementFailed, "\(todo[later.index].0.label) committed although \(m.label) before it failed: "
                                                    + error.description, version: m.version,
                                                    nextStep: "run `opsctl migrate status` and report this as a bug")
                    window?.abandon()
                    return
                }
            }
            inFlight.removeAll()
            bytes = 0
            if let w = window {
                window = nil
                do { try w.close() } catch let e as PostgresError { lost(e, at: head.index); return } catch {}
            }
            switch afterFailure(error, of: m, script, attempt: 1, runner: runner, down: false) {
            case let .stop(e):
                report.failure = e
                return
            case .retry:
                // Again alone, with the retries left; the ones behind it are sent again after it.
                switch runInTransaction(m, script, runner: runner, down: false, executionOrder: order + 1, attempt: 1) {
                case let .success(result): done(result); next = head.index + 1
                case let .failure(e): report.failure = e; return
                }
            }
        }
        PhaseClock.mark("last migration read back")
        // Everything was read back: leaving pipeline mode cannot lose anything (a session it fails on is
        // not idle, so it is closed rather than lent again).
        try? window?.close()
    }

    /// Whether a migration may share the window: transactional, small enough for a pipeline, and
    /// leaving the session's prepared statements alone (the ones behind it use them).
    static func fitsWindow(_ m: Migration, _ script: SQLScript) -> Bool {
        canPipeline(script) && transactionMode(m, script) == nil && !dropsPreparedStatements(script)
    }
}
