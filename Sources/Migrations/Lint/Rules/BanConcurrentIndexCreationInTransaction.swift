extension LintRules {
    static let banConcurrentIndexCreationInTransaction = LintRule(
        id: "ban-concurrent-index-creation-in-transaction", severity: .error,
        rationale: "CREATE INDEX CONCURRENTLY cannot run inside a transaction block: the migration fails.",
        alternative: "Remove the BEGIN/COMMIT around it; the runner applies such migrations outside a transaction."
    ) { c in
        guard c.insideExplicitTransaction, c.statement.kind == "IndexStmt", c.node["concurrent"].isTrue else { return [] }
        return ["CREATE INDEX CONCURRENTLY inside BEGIN ... COMMIT"]
    }
}
