extension LintRules {
    static let addingNotNullableField = LintRule(
        id: "adding-not-nullable-field", severity: .error,
        rationale: "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock; ADD COLUMN ... NOT NULL without a default fails on a non-empty table.",
        alternative: "Add a CHECK (col IS NOT NULL) NOT VALID constraint, VALIDATE it in a later migration, then SET NOT NULL (Postgres 12+ uses the constraint); or add the column with a constant DEFAULT."
    ) { c in
        var out: [String] = []
        for (t, cmd) in c.alterCommands {
            if t == "AT_SetNotNull" { out.append("SET NOT NULL on column \(cmd["name"]?.string ?? "?") of an existing table") }
            if t == "AT_AddColumn", let def = cmd["def"]?["ColumnDef"] {
                let cons = TypeNames.constraints(def).compactMap { $0["contype"]?.string }
                if cons.contains("CONSTR_NOTNULL") && !cons.contains("CONSTR_DEFAULT") && !cons.contains("CONSTR_GENERATED") {
                    out.append("column \(def["colname"]?.string ?? "?") is added NOT NULL without a default")
                }
            }
        }
        return out
    }
}
