import Postgres

/// Creates opsctl's own tables in schema `opsctl` (the journal's, the replay's, releases, retention, health
/// state). Every site that creates the schema goes through here: two sessions running
/// `CREATE SCHEMA IF NOT EXISTS opsctl` at once can fail (the second one's insert into the catalog is a
/// unique violation), and a run's journal and its first step now create their tables at the same time,
/// so all of them serialise on this one transaction lock.
public enum OpsctlSchema {
    /// The one lock key every creator of the schema holds (a transaction lock: released by its commit).
    static let lock = "SELECT pg_advisory_xact_lock(hashtextextended('opsctl:schema', 0))"

    /// Runs `ddl` in a transaction of its own that holds the lock, all in one round trip; rolls back on error.
    public static func create(_ db: PostgresConnection, _ ddl: String, statementTimeoutMs: Int = 30_000, lockTimeoutMs: Int = 10_000) throws {
        do {
            // lock_timeout first: it bounds the wait for the advisory lock too.
            try db.execute("""
                BEGIN; SET LOCAL statement_timeout = \(statementTimeoutMs); SET LOCAL lock_timeout = \(lockTimeoutMs);
                SET LOCAL client_min_messages = warning; \(lock);
                \(ddl);
                COMMIT
                """)
        } catch {
            _ = try? db.execute("ROLLBACK")
            throw error
        }
    }

    /// Takes the lock inside the caller's own transaction (its DDL follows, and its commit releases the lock).
    public static func lock(inTransaction db: PostgresConnection) throws {
        try db.execute(lock)
    }
}
