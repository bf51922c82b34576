/// Creates opsctl's own tables in schema `opsctl` (the journal's, the replay's, releases, retention, health
/// state) or the migration history's schema. Every site that creates a schema goes through here: two sessions running
/// `CREATE SCHEMA IF NOT EXISTS opsctl` at once can fail (the second one's insert into the catalog is a
/// unique violation), and a run's journal and its first step create their tables at the same time.
/// So the schema is created under one lock all of them share, in a transaction of its own, and each
/// site's tables under a lock of that site's (two runs making the same table with IF NOT EXISTS can
/// collide the same way); different sites' tables are made side by side.
public enum OpsctlSchema {
    /// Runs `ddl` holding the lock named `tables` (after `schema` is made under the shared lock: `ddl` makes
    /// only the site's tables), in one round trip; rolls back on error.
    public static func create(_ db: PostgresConnection, schema: String = "opsctl", _ ddl: String, tables: String,
                              statementTimeoutMs: Int = 30_000, lockTimeoutMs: Int = 10_000) throws {
        // lock_timeout first: it bounds the waits for the advisory locks too.
        let limits = "SET LOCAL statement_timeout = \(statementTimeoutMs); SET LOCAL lock_timeout = \(lockTimeoutMs); "
            + "SET LOCAL client_min_messages = warning"
        do {
            try db.execute("""
                BEGIN; \(limits); \(schemaLock); CREATE SCHEMA IF NOT EXISTS \(quoteIdentifier(schema)); COMMIT;
                BEGIN; \(limits); SELECT pg_advisory_xact_lock(hashtextextended('opsctl:tables:' || \(quoted(tables)), 0));
                \(ddl);
                COMMIT
                """)
        } catch {
            _ = try? db.execute("ROLLBACK")
            throw error
        }
    }

    /// Takes the shared lock inside the caller's own transaction (its DDL, schema included, follows; its
    /// commit releases the lock).
    public static func lock(inTransaction db: PostgresConnection) throws {
        try db.execute(schemaLock)
    }

    /// The lock every creator of the schema holds (a transaction lock: released by its commit).
    public static let schemaLock = "SELECT pg_advisory_xact_lock(hashtextextended('opsctl:schema', 0))"

    private static func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
}
