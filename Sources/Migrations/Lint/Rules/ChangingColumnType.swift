extension LintRules {
    static let changingColumnType = LintRule(
        id: "changing-column-type", severity: .error,
        rationale: "ALTER COLUMN ... TYPE usually rewrites the table and its indexes under an ACCESS EXCLUSIVE lock.",
        alternative: "Add a new column, backfill it in batches, switch readers and writers, then drop the old one."
    ) { c in
        c.alterCommands.filter { $0.subtype == "AT_AlterColumnType" }.map { "type of column \($0.cmd["name"]?.string ?? "?") changes on an existing table" }
    }
}
