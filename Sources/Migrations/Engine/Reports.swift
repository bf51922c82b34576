/// The session that held the migration lock when we arrived.
public struct LockHolder: Sendable, CustomStringConvertible {
    public var pid: Int
    public var application: String
    public var description: String { "pid \(pid)" + (application.isEmpty ? "" : " (\(application))") }
}

/// One migration `apply` or `rollback` will run: how, and its SQL.
public struct PlannedMigration: Sendable {
    public var version: Int64
    public var name: String
    public var file: String
    /// False when it runs statement by statement outside a transaction.
    public var transactional: Bool
    /// Why it cannot run in a transaction (`CREATE INDEX CONCURRENTLY at 004_x.sql:3:1`).
    public var nonTransactionalReason: String?
    public var statements: [String]
    public var sql: String
}

/// A migration that ran (up or down).
public struct CompletedMigration: Sendable {
    public var version: Int64
    public var name: String
    public var file: String
    public var durationMs: Int
    public var statements: Int
    public var transactional: Bool
    /// 1 unless lock timeouts forced retries.
    public var attempts: Int
}

/// What `apply` or `rollback` did. `failure` is set when a migration failed part way;
/// earlier migrations in `completed` stay applied (each had its own transaction).
public struct MigrationRunReport: Sendable {
    public enum Direction: String, Sendable { case up, down }
    public var direction: Direction
    public var dryRun: Bool
    public var planned: [PlannedMigration]
    public var completed: [CompletedMigration]
    public var failure: MigrationError?
    public var waitedFor: LockHolder?
    /// Version the database is at afterwards (0 = none applied).
    public var currentVersion: Int64

    public var succeeded: Bool { failure == nil }

    /// One line for a human.
    public var message: String {
        let verb = direction == .up ? "applied" : "rolled back"
        if dryRun {
            return planned.isEmpty ? "nothing to do: database at version \(currentVersion)"
                : "would \(direction == .up ? "apply" : "roll back") \(planned.count) migration(s): " + planned.map { "\($0.version)" }.joined(separator: ", ")
        }
        if let failure, failure.kind == .interrupted {
            let done = completed.isEmpty ? "" : "\(verb) \(completed.count) migration(s), then "
            return done + "\(failure) (database at version \(currentVersion))"
        }
        if let failure {
            let done = completed.isEmpty ? "" : "\(verb) \(completed.count) migration(s), then "
            return done + "failed: \(failure)"
        }
        if completed.isEmpty {
            let waited = waitedFor.map { "waited for \($0) and " } ?? ""
            return "\(waited)found nothing to do: database at version \(currentVersion)"
        }
        let waited = waitedFor.map { " (after waiting for \($0))" } ?? ""
        return "\(verb) \(completed.count) migration(s)\(waited): database at version \(currentVersion)"
    }

    /// The plan and its SQL, for `--dry-run`.
    public var planText: String {
        if planned.isEmpty { return "nothing to do (database at version \(currentVersion))" }
        return planned.map { p in
            var head = "-- \(direction == .up ? "apply" : "roll back") \(p.version) \(p.name) (\(p.file))"
            head += p.transactional ? " in a transaction" : " WITHOUT a transaction: \(p.nonTransactionalReason ?? "")"
            return head + "\n" + p.sql.trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
        }.joined(separator: "\n")
    }
}

import Foundation
