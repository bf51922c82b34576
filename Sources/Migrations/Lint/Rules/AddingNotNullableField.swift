extension LintRules {
    static let addingNotNullableField = LintRule(
        id: "adding-not-nullable-field", severity: .error,
        rationale: "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock.",
        alternative: "Add a CHECK (col IS NOT NULL) NOT VALID constraint, VALIDATE it in a later migration, then SET NOT NULL (Postgres 12+ uses the constraint)."
    ) { c in
        var out: [String] = []
        for (t, cmd) in c.alterCommands {
            if t == "AT_SetNotNull" { out.append("SET NOT NULL on column \(cmd["name"]?.string ?? "?") of an existing table") }
        }
        return out
    }
}
