extension LintRules {
    /// Statements that take strong locks on existing tables.
    static let lockingKinds: Set<String> = ["AlterTableStmt", "IndexStmt", "DropStmt", "RenameStmt", "CreateTrigStmt", "TruncateStmt", "ClusterStmt", "ReindexStmt", "DropdbStmt"]

    static let requireTimeoutSettings = LintRule(
        id: "require-timeout-settings", severity: .warning,
        rationale: "Without lock_timeout a DDL statement queued behind a long transaction blocks every query after it (the lock-queue hazard); without statement_timeout it can run unbounded.",
        alternative: "Start the migration with SET lock_timeout = '5s'; SET statement_timeout = '5min'; (`opsctl migrate new` writes them)."
    ) { c in
        guard !c.timeoutReported, lockingKinds.contains(c.statement.kind) else { return [] }
        let onExisting: Bool
        switch c.statement.kind {
        case "AlterTableStmt", "IndexStmt", "RenameStmt", "CreateTrigStmt": onExisting = c.isExisting(RelationName(rangeVar: c.node["relation"]))
        default: onExisting = true
        }
        guard onExisting else { return [] }
        var missing: [String] = []
        if !c.lockTimeoutSet { missing.append("lock_timeout") }
        if !c.statementTimeoutSet { missing.append("statement_timeout") }
        return missing.isEmpty ? [] : ["\(missing.joined(separator: " and ")) not set before this DDL"]
    }
}
