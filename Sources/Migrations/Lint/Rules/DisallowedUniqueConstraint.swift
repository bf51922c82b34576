extension LintRules {
    static let disallowedUniqueConstraint = LintRule(
        id: "disallowed-unique-constraint", severity: .error,
        rationale: "ADD CONSTRAINT ... UNIQUE builds its index while blocking reads and writes.",
        alternative: "CREATE UNIQUE INDEX CONCURRENTLY, then ALTER TABLE ... ADD CONSTRAINT name UNIQUE USING INDEX index_name."
    ) { c in
        c.alterCommands.filter { $0.subtype == "AT_AddConstraint" }.compactMap { _, cmd in
            guard let con = cmd["def"]?["Constraint"], ["CONSTR_UNIQUE", "CONSTR_PRIMARY"].contains(con["contype"]?.string ?? ""),
                  con["indexname"] == nil else { return nil }
            return "unique constraint \(con["conname"]?.string ?? "") builds its index under lock"
        }
    }
}
