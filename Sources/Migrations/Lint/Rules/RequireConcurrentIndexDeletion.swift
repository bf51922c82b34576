extension LintRules {
    static let requireConcurrentIndexDeletion = LintRule(
        id: "require-concurrent-index-deletion", severity: .error,
        rationale: "DROP INDEX takes an ACCESS EXCLUSIVE lock on the table, blocking reads and writes.",
        alternative: "DROP INDEX CONCURRENTLY IF EXISTS name."
    ) { c in
        guard c.statement.kind == "DropStmt", c.node["removeType"]?.string == "OBJECT_INDEX", !c.node["concurrent"].isTrue else { return [] }
        return ["DROP INDEX without CONCURRENTLY"]
    }
}
