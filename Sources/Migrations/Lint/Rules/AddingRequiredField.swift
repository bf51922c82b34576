extension LintRules {
    static let addingRequiredField = LintRule(
        id: "adding-required-field", severity: .error,
        rationale: "ADD COLUMN ... NOT NULL without a default fails on any non-empty table (and old application versions cannot insert rows).",
        alternative: "Add the column with a constant DEFAULT, or nullable, backfill, then add the NOT NULL constraint safely."
    ) { c in
        c.alterCommands.compactMap { t, cmd in
            guard t == "AT_AddColumn", let def = cmd["def"]?["ColumnDef"] else { return nil }
            let cons = TypeNames.constraints(def).compactMap { $0["contype"]?.string }
            guard cons.contains("CONSTR_NOTNULL"), !cons.contains("CONSTR_DEFAULT"), !cons.contains("CONSTR_GENERATED") else { return nil }
            return "column \(def["colname"]?.string ?? "?") is added NOT NULL without a default"
        }
    }
}
