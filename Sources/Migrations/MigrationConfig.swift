/// How migrations are found and run: directory, down-file naming, history table, timeouts.
public struct MigrationConfig: Sendable {
    /// Directory holding the migration files.
    public var directory: String
    /// Where the down script of `NNN_name.sql` lives: `{version}_{name}.down.sql` (default),
    /// `{version}_rollback.sql`, `rollback/{version}_{name}.sql`, ... relative to `directory`.
    public var downPattern: String
    /// History table, `schema.table`.
    public var table: String
    /// lock_timeout per statement (ms); the lock-queue hazard: never wait long behind a lock.
    public var lockTimeoutMs: Int
    /// statement_timeout per statement (ms, 0 = none).
    public var statementTimeoutMs: Int
    /// Extra attempts after a lock timeout, with exponential backoff from `retryDelay` seconds.
    public var lockRetries: Int
    public var retryDelay: Double
    /// One transaction for all pending migrations instead of one each.
    public var singleTransaction: Bool
    /// Apply a pending version lower than the newest applied one.
    public var allowOutOfOrder: Bool
    /// How long to wait for another applier's advisory lock (seconds).
    public var lockWait: Double
    /// application_name of the sessions (`opsctl/<runbook>/<step>`).
    public var applicationName: String
    /// Transactional migrations kept in flight on the session during an apply (1: one at a time). The
    /// server runs the next while the client reads the last one's results; a failure stops the ones
    /// behind it at their guard, so the outcome is the same as one at a time.
    public var pipelineWindow = 8

    public static let defaultDownPattern = "{version}_{name}.down.sql"
    public static let defaultTable = "opsctl.schema_migrations"

    public init(directory: String, downPattern: String = MigrationConfig.defaultDownPattern,
                table: String = MigrationConfig.defaultTable, lockTimeoutMs: Int = 5_000,
                statementTimeoutMs: Int = 300_000, lockRetries: Int = 3, retryDelay: Double = 0.5,
                singleTransaction: Bool = false, allowOutOfOrder: Bool = false, lockWait: Double = 300,
                applicationName: String = "opsctl/migrate") {
        self.directory = directory
        self.downPattern = downPattern
        self.table = table
        self.lockTimeoutMs = lockTimeoutMs
        self.statementTimeoutMs = statementTimeoutMs
        self.lockRetries = lockRetries
        self.retryDelay = retryDelay
        self.singleTransaction = singleTransaction
        self.allowOutOfOrder = allowOutOfOrder
        self.lockWait = lockWait
        self.applicationName = applicationName
    }
}
