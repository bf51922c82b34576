import Foundation
import Postgres

extension Migrator {
    /// Runs down scripts newest first: every applied version above `target`, or the last `steps`.
    /// Refuses (before running anything) when one of them has no down script, naming which.
    public func rollback(to target: Int64? = nil, steps: Int? = nil, dryRun: Bool = false) throws -> MigrationRunReport {
        guard target != nil || steps != nil else {
            throw MigrationError(.invalidInput, "rollback needs a target version (--to N) or a number of steps (--steps K)")
        }
        let set = try files()
        let db = try connect()
        defer { db.close() }
        var status = try readStatus(set, db)
        var todo = try rollbackScripts(set, status, target: target, steps: steps)
        if dryRun {
            return MigrationRunReport(direction: .down, dryRun: true, planned: todo.map { Self.plan($0.0, $0.1, down: true) },
                             completed: [], failure: nil, waitedFor: nil, currentVersion: status.current)
        }
        let lock = try MigrationLock(dsn: dsn, table: history, applicationName: config.applicationName)
        defer { lock.release() }
        try lock.acquire(timeout: config.lockWait, cancellation: cancellation)
        status = try readStatus(set, db, underLock: true)
        todo = try rollbackScripts(set, status, target: target, steps: steps)
        var report = MigrationRunReport(direction: .down, dryRun: false, planned: todo.map { Self.plan($0.0, $0.1, down: true) },
                               completed: [], failure: nil,
                               waitedFor: lock.waitedFor.map { LockHolder(pid: $0.pid, application: $0.application) },
                               currentVersion: status.current)
        let runner = StatementRunner(db: db, config: config, cancellation: cancellation)
        for (m, script) in todo {
            switch runMigration(m, script, runner: runner, down: true) {
            case let .success(done):
                report.completed.append(done)
                report.currentVersion = (try? readStatus(set, db, underLock: true).current) ?? report.currentVersion
            case let .failure(error):
                report.failure = error
                return report
            }
        }
        return report
    }

    /// Applied migrations to undo, newest first, with parsed down scripts.
    func rollbackScripts(_ set: MigrationSet, _ status: MigrationStatus, target: Int64?, steps: Int?) throws -> [(Migration, SQLScript)] {
        var applied = status.versions.filter { [.applied, .modified, .missing, .partial, .failed].contains($0.state) && $0.entry != nil }
            .sorted { $0.version > $1.version }
        applied.removeAll { $0.entry?.state == .failed && ($0.entry?.statementsDone ?? 0) == 0 }
        let chosen: [VersionStatus]
        if let target {
            chosen = applied.filter { $0.version > target }
        } else {
            chosen = Array(applied.prefix(max(0, steps ?? 0)))
        }
        if let partial = chosen.first(where: { $0.state == .partial || $0.state == .failed }) {
            throw MigrationError(.blocked, "version \(partial.version) is \(partial.state.rawValue): its down script may not fit what exists",
                                 version: partial.version, nextStep: "inspect it with `opsctl migrate repair \(partial.version)` first")
        }
        let noFile = chosen.filter { $0.file == nil }
        if !noFile.isEmpty {
            throw MigrationError(.blocked, "cannot roll back \(noFile.map { String($0.version) }.joined(separator: ", ")): the migration file is gone",
                                 version: noFile[0].version, nextStep: "restore the file, or `migrate repair --mark-rolled-back` after undoing it by hand")
        }
        let migrations = chosen.compactMap { v in set.migrations.first { $0.version == v.version } }
        let noDown = migrations.filter { $0.down == nil }
        if !noDown.isEmpty {
            let which = noDown.map { "\($0.upFile) (expected \($0.expectedDownFile ?? "a -- migrate:down section"))" }.joined(separator: ", ")
            throw MigrationError(.blocked, "refusing to roll back: no down script for \(which); nothing was rolled back",
                                 version: noDown[0].version, nextStep: "write the down script, or check down_pattern")
        }
        return try migrations.map { ($0, try Self.script($0, down: true, cancellation: cancellation)) }
    }
}
