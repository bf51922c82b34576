import Foundation
import Migrations

// The dry-run checks of the mutating migration kinds: the engine's own dry-run (files load and parse,
// the database is reachable, the history is read, a rollback has its down scripts), so a dry-run
// fails with the reason the real run would fail with instead of printing "plan unavailable".

extension MigrationsApply {
    public func preflight(_ context: StepContext) throws {
        _ = try MigrationParameters.guarded { try p.migrator(context).apply(to: target, dryRun: true) }
    }
}

extension MigrationsRollback {
    public func preflight(_ context: StepContext) throws {
        _ = try MigrationParameters.guarded { try p.migrator(context).rollback(to: target, steps: steps, dryRun: true) }
    }
}

extension MigrationsBaseline {
    public func preflight(_ context: StepContext) throws {
        try MigrationParameters.guarded {
            let migrator = try p.migrator(context)
            _ = try migrator.files()
            _ = try migrator.status()
        }
    }
}

extension MigrationsRepair {
    public func preflight(_ context: StepContext) throws {
        try MigrationParameters.guarded {
            let migrator = try p.migrator(context)
            if mark == "applied", try migrator.files().migration(version) == nil {
                throw MigrationError(.invalidInput, "no migration file for version \(version)")
            }
            _ = try migrator.evidence(version: version)
        }
    }
}
