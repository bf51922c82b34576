import Foundation
import Postgres

extension Migrator {
    /// Bounds of a migration run as one pipeline: everything is written before a result is read.
    static let pipelineStatements = 256
    static let pipelineBytes = 1 << 20

    static func canPipeline(_ script: SQLScript) -> Bool {
        script.statements.count <= pipelineStatements && script.source.utf8.count <= pipelineBytes
    }

    /// One transactional migration in one round trip instead of one per statement: a pipeline of BEGIN
    /// and its timeouts, the migration's statements, the catalog checks that the objects it creates
    /// exist (each followed by a guard that fails when one is missing), its history row with its event,
    /// and COMMIT. The safeties are the same as statement by statement: the server stops at the first
    /// error and skips everything after it up to the sync, COMMIT included (the caller rolls back); an
    /// interrupt cancels the statement running on the server; nothing commits unless every check passed.
    /// The bookkeeping statements are prepared once per connection: their parse and plan cost the server
    /// more than running them.
    func runPipelined(_ m: Migration, _ script: SQLScript, runner: StatementRunner, down: Bool, executionOrder: Int? = nil) throws {
        if cancellation.isCancelled {
            throw MigrationError(.interrupted, "\(cancellation.reason ?? "interrupted") before this statement started",
                                 location: script.statements.first?.location, version: m.version, statementIndex: 0,
                                 statement: script.statements.first?.summary)
        }
        let batch = pipelined(m, script, down: down, executionOrder: executionOrder)
        // SQL that drops the session's prepared statements would drop ours under the statements after it.
        defer { if batch.dropsPrepared { runner.db.forgetPreparedStatements() } }
        let outcome = try guarded("running \(m.label)") { try runner.db.pipeline(batch.items) }
        if let error = batch.failure(outcome, m, script, runner: runner) { throw error }
    }

    /// The statements of one migration's pipeline and where each part of it starts.
    struct PipelinedMigration {
        var items: [PipelinedStatement]
        /// Index of the window's guard (the lock is held, the migration sent before it committed), if any.
        var guardAt: Int?
        var first: Int
        var checksAt: Int
        var guardsAt: Int
        var recordAt: Int
        var checks: [ObjectVerifier.Check]
        var dropsPrepared: Bool

        /// The error a failed pipeline stands for, located in the migration's file (nil: it committed).
        func failure(_ outcome: PipelineOutcome, _ m: Migration, _ script: SQLScript, runner: StatementRunner) -> MigrationError? {
            guard let (i, e) = outcome.failure else { return nil }
            let statements = script.statements
            if i == guardAt && e.sqlState == ObjectVerifier.Check.guardFailed {
                // (The migration before it committed: the caller read that back before this one.)
                return MigrationError(.connection, "the migration lock is no longer held (its session ended): nothing of \(m.label) ran",
                                      version: m.version, nextStep: "apply again")
            }
            if i >= first && i < checksAt { return runner.error(e, statements[i - first], script, m.version) }
            if i >= guardsAt && i < recordAt && e.sqlState == ObjectVerifier.Check.guardFailed {
                // The checks ran before the guard that stopped the commit: they name what is missing.
                let missing = checks.enumerated().flatMap { k, check in check.absent(outcome.results[checksAt + k]) }
                return MigrationError(.verification, "after running, these objects do not exist: "
                                      + (missing.isEmpty ? "(the catalog check failed)" : missing.map(\.description).joined(separator: ", ")),
                                      location: SourceLocation(file: m.upFile, line: 1, column: 1), version: m.version)
            }
            return MigrationError.from(e, i < first ? "starting the transaction" : i < recordAt ? "verifying \(m.label)"
                                          : i == recordAt ? "recording \(m.label)" : "committing \(m.label)")
        }
    }

    /// BEGIN and its timeouts, the migration's statements, the catalog checks and their guards, the
    /// history row with its event, COMMIT. `window`: sent in a window, it first checks that the lock's
    /// session (which holds `holderKey`) is there and that the migration sent just before it (`after`) committed.
    func pipelined(_ m: Migration, _ script: SQLScript, down: Bool, executionOrder: Int?,
                   window: (after: Int64?, holderKey: String)? = nil) -> PipelinedMigration {
        let statements = script.statements
        let dropsPrepared = Self.dropsPreparedStatements(script)
        var items: [PipelinedStatement] = [.init("BEGIN")]
        let guardAt = window.map { _ in items.count }
        if let window { items.append(history.windowGuard(after: window.after, holderKey: window.holderKey)) }
        items.append(.init("SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)",
                           [String(config.lockTimeoutMs), String(config.statementTimeoutMs)], prepared: true))
        let first = items.count
        items += statements.map { PipelinedStatement($0.text) }
        let checks = down ? [] : ObjectVerifier.checks(script.effects.created)
        let checksAt = items.count
        items += checks.map(\.statement)
        let guardsAt = items.count
        items += checks.map(\.guardStatement)
        let recordAt = items.count
        items.append(down ? history.rolledBackStatement(version: m.version, detail: m.downFile ?? "")
                          : history.appliedStatement(m, statements: statements.count, executionOrder: executionOrder, detail: m.upFile))
        items.append(.init("COMMIT"))
        if dropsPrepared { for i in items.indices { items[i].prepared = false } }
        return PipelinedMigration(items: items, guardAt: guardAt, first: first, checksAt: checksAt, guardsAt: guardsAt,
                                  recordAt: recordAt, checks: checks, dropsPrepared: dropsPrepared)
    }

    /// SQL that drops the session's prepared statements (ours among them).
    static func dropsPreparedStatements(_ script: SQLScript) -> Bool {
        script.statements.contains { $0.kind == "DeallocateStmt" || $0.kind == "DiscardStmt" }
    }
}
