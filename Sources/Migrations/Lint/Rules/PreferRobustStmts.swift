extension LintRules {
    static let preferRobustStmts = LintRule(
        id: "prefer-robust-stmts", severity: .warning,
        rationale: "A migration that runs outside a transaction can stop half way; re-running it must not fail on what already exists.",
        alternative: "Use IF NOT EXISTS / IF EXISTS (CREATE INDEX CONCURRENTLY IF NOT EXISTS, DROP INDEX CONCURRENTLY IF EXISTS, ADD COLUMN IF NOT EXISTS)."
    ) { c in
        guard !c.transactional else { return [] }
        let n = c.node
        switch c.statement.kind {
        case "CreateStmt", "IndexStmt", "CreateSeqStmt":
            return n["if_not_exists"].isTrue ? [] : ["\(c.statement.kind == "IndexStmt" ? "CREATE INDEX" : "CREATE") without IF NOT EXISTS in a non-transactional migration"]
        case "DropStmt":
            return n["missing_ok"].isTrue ? [] : ["DROP without IF EXISTS in a non-transactional migration"]
        case "AlterTableStmt":
            return c.alterCommands.compactMap { t, cmd in
                if t == "AT_AddColumn", !cmd["missing_ok"].isTrue { return "ADD COLUMN without IF NOT EXISTS in a non-transactional migration" }
                if t == "AT_DropColumn", !cmd["missing_ok"].isTrue { return "DROP COLUMN without IF EXISTS in a non-transactional migration" }
                return nil
            }
        default: return []
        }
    }
}
