import Foundation
import Postgres

/// Looks at a database from the side, as a DBA would while opsctl runs: one short connection per question.
public enum Probe {
    /// First column of the first row, as text (nil for NULL or no row).
    public static func scalar(_ url: String, _ sql: String) throws -> String? {
        let db = try PostgresConnection(dsn: url, applicationName: "opsctl-test-probe")
        defer { db.close() }
        return try db.query(sql).first?[0].string
    }

    /// Whether a statement containing `marker` is running in another session of the database.
    public static func running(_ url: String, _ marker: String) -> Bool {
        (try? scalar(url, """
            SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
               AND query LIKE '%\(marker)%'
            """)) == "1"
    }
}
