import Foundation
import Postgres

extension Migrator {
    /// Bounds of a migration run as one pipeline: everything is written before a result is read.
    static let pipelineStatements = 256
    static let pipelineBytes = 1 << 20

    static func canPipeline(_ script: SQLScript) -> Bool {
        script.statements.count <= pipelineStatements && script.source.utf8.count <= pipelineBytes
    }

    /// One transactional migration in two round trips instead of one per statement: a pipeline of
    /// BEGIN and its timeouts, the migration's statements, the catalog checks that the objects it
    /// creates exist, its history row and its event — then COMMIT once the checks found nothing
    /// missing. The safeties are the same as statement by statement: the server stops at the first
    /// error (the rest of the pipeline is aborted, the caller rolls back), an interrupt cancels the
    /// statement running on the server, and nothing commits unless every check passed.
    func runPipelined(_ m: Migration, _ script: SQLScript, runner: StatementRunner, down: Bool, executionOrder: Int? = nil) throws {
        let statements = script.statements
        if cancellation.isCancelled {
            throw MigrationError(.interrupted, "\(cancellation.reason ?? "interrupted") before this statement started",
                                 location: statements.first?.location, version: m.version, statementIndex: 0,
                                 statement: statements.first?.summary)
        }
        var items: [PipelinedStatement] = [
            .init("BEGIN"),
            .init("SET LOCAL lock_timeout = \(config.lockTimeoutMs)"),
            .init("SET LOCAL statement_timeout = \(config.statementTimeoutMs)"),
        ]
        let first = items.count
        items += statements.map { PipelinedStatement($0.text) }
        let checks = down ? [] : ObjectVerifier.checks(script.effects.created)
        let checksAt = items.count
        items += checks.map(\.statement)
        if down {
            items.append(history.deleteStatement(version: m.version))
            items.append(history.eventStatement(version: m.version, action: "rollback", detail: m.downFile ?? "", durationSuffix: true))
        } else {
            items.append(history.recordStatement(m, state: .applied, durationMs: nil, statementsDone: statements.count,
                                                 statementsTotal: statements.count, executionOrder: executionOrder,
                                                 durationSinceTransactionStart: true))
            items.append(history.eventStatement(version: m.version, action: "apply", detail: m.upFile, durationSuffix: true))
        }
        let outcome = try guarded("running \(m.label)") { try runner.db.pipeline(items) }
        if let (i, e) = outcome.failure {
            if i >= first && i < first + statements.count { throw runner.error(e, statements[i - first], script, m.version) }
            throw MigrationError.from(e, i < first ? "starting the transaction" : i < checksAt + checks.count ? "verifying \(m.label)"
                                                                                                              : "recording \(m.label)")
        }
        let missing = checks.enumerated().flatMap { k, check in check.absent(outcome.results[checksAt + k]) }
        guard missing.isEmpty else {
            throw MigrationError(.verification, "after running, these objects do not exist: " + missing.map(\.description).joined(separator: ", "),
                                 location: SourceLocation(file: m.upFile, line: 1, column: 1), version: m.version)
        }
        try guarded("committing \(m.label)") { try runner.db.execute("COMMIT") }
    }
}
