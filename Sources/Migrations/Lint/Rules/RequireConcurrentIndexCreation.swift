extension LintRules {
    static let requireConcurrentIndexCreation = LintRule(
        id: "require-concurrent-index-creation", severity: .error,
        rationale: "CREATE INDEX without CONCURRENTLY blocks writes to the table for the whole build.",
        alternative: "CREATE INDEX CONCURRENTLY (the runner then applies the migration outside a transaction)."
    ) { c in
        guard c.statement.kind == "IndexStmt", !c.node["concurrent"].isTrue,
              c.isExisting(RelationName(rangeVar: c.node["relation"])) else { return [] }
        return ["index \(c.node["idxname"]?.string ?? "") on existing table \(RelationName(rangeVar: c.node["relation"])?.description ?? "?") is built without CONCURRENTLY"]
    }
}
