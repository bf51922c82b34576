extension LintRules {
    static let constraintMissingNotValid = LintRule(
        id: "constraint-missing-not-valid", severity: .error,
        rationale: "Adding a CHECK or FOREIGN KEY constraint validates every row while holding a lock that blocks writes.",
        alternative: "ADD CONSTRAINT ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a separate migration."
    ) { c in
        c.alterCommands.filter { $0.subtype == "AT_AddConstraint" }.compactMap { _, cmd in
            guard let con = cmd["def"]?["Constraint"], ["CONSTR_CHECK", "CONSTR_FOREIGN"].contains(con["contype"]?.string ?? ""),
                  !con["skip_validation"].isTrue else { return nil }
            return "constraint \(con["conname"]?.string ?? "") is added without NOT VALID"
        }
    }
}
