/// Every step kind opsctl knows, in one place. Adding a kind = one file + one line here.
public enum StepRegistry {
    public static let all: [any StepKind.Type] = [
        // Generic
        Shell.self,
        SQLQuery.self,
        SQLExec.self,
        HTTPRequestKind.self,
        WaitFor.self,
        Confirm.self,
        Pause.self,
        // Postgres health
        PostgresConnect.self,
        PostgresConnections.self,
        PostgresLongTransactions.self,
        PostgresLockWaits.self,
        PostgresIdleInTransaction.self,
        PostgresDatabaseSize.self,
        PostgresExtensions.self,
        // Postgres health catalog (check_postgres depth)
        PostgresConnectionStates.self, PostgresDeadlocks.self, PostgresXIDWraparound.self, PostgresMultixactWraparound.self,
        PostgresTableBloat.self, PostgresIndexBloat.self, PostgresDeadTuples.self, PostgresVacuumAge.self, PostgresAnalyzeAge.self,
        PostgresReplicationLag.self, PostgresReplicationSlots.self, PostgresSequences.self, PostgresInvalidIndexes.self,
        PostgresUnusedIndexes.self, PostgresDuplicateIndexes.self, PostgresCacheHitTables.self, PostgresCacheHitIndexes.self,
        PostgresTopQueries.self, PostgresCheckpoints.self, PostgresTempFiles.self, PostgresDatabaseGrowth.self, PostgresTableGrowth.self,
        // Maintenance: statements outside a transaction, batched retention
        PostgresMaintenance.self, PostgresRetention.self,
        // Deploy gates and verification
        EnvValidate.self,
        WebhookSend.self,
        RemoveSyntheticEvent.self,
        // TLS
        TLSCertificate.self,
        // External dependencies
        Statuspage.self, TCPConnect.self, DNSResolve.self, RedisPing.self,
        // Liveness of cron and scheduler jobs
        Freshness.self,
        // Logs
        LogsAnalyze.self,
        // Migrations
        MigrationsStatus.self,
        MigrationsLint.self,
        MigrationsApply.self,
        MigrationsRollback.self,
        MigrationsVerify.self,
        MigrationsRehearse.self,
        MigrationsRepair.self,
        MigrationsBaseline.self,
        // Replay and reconciliation
        WebhooksReplay.self, ReplayVerify.self, ProviderDiff.self, ReconcileExplain.self,
        // Service profiles
        ServiceDoctor.self, EventProcessed.self, EventsBacklog.self, EventsFailed.self, EventsDuplicates.self,
        // Releases: what runs where, and the last good one to roll back to
        ReleaseRecord.self, ReleaseTarget.self, ReleaseStatus.self,
        // Backups
        BackupCreate.self, BackupList.self, BackupVerify.self, BackupDropScratch.self, BackupRestore.self, BackupPrune.self,
    ]

    /// Kinds the runbook engine itself implements (they need the executor, not a StepKind).
    public static let engineKinds: [(name: String, summary: String)] = [
        ("runbook", "Run another runbook (shipped name or file) with params, as one step"),
    ]

    public static func kind(named name: String) -> (any StepKind.Type)? {
        all.first { $0.name == name }
    }

    public static var names: [String] { all.map { $0.name } + engineKinds.map(\.name) }

    /// ", did you mean 'x'?" for the closest known name, or "".
    public static func suggestion(for name: String) -> String {
        closest(to: name, in: names).map { ", did you mean '\($0)'?" } ?? ""
    }
}

/// The candidate with the smallest edit distance, when it is close enough to be a typo.
public func closest(to word: String, in candidates: [String]) -> String? {
    // Edit distance is quadratic: a 200 KB "kind" took minutes (found by the fuzzer). No typo is that long.
    guard word.utf8.count <= 64 else { return nil }
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    return best.1 <= max(2, word.count / 3) ? best.0 : nil
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
