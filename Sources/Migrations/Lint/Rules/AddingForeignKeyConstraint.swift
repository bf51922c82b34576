extension LintRules {
    static let addingForeignKeyConstraint = LintRule(
        id: "adding-foreign-key-constraint", severity: .warning,
        rationale: "A new foreign key locks both tables (SHARE ROW EXCLUSIVE) and scans the referencing table to validate it.",
        alternative: "Add it NOT VALID, then VALIDATE CONSTRAINT in a later migration."
    ) { c in
        var out: [String] = []
        for (t, cmd) in c.alterCommands {
            if t == "AT_AddConstraint", let con = cmd["def"]?["Constraint"], con["contype"]?.string == "CONSTR_FOREIGN", !con["skip_validation"].isTrue {
                out.append("foreign key \(con["conname"]?.string ?? "") to \(RelationName(rangeVar: con["pktable"])?.description ?? "?") is validated at once")
            }
            if t == "AT_AddColumn", let def = cmd["def"]?["ColumnDef"],
               TypeNames.constraints(def).contains(where: { $0["contype"]?.string == "CONSTR_FOREIGN" }) {
                out.append("column \(def["colname"]?.string ?? "?") is added with a REFERENCES constraint")
            }
        }
        return out
    }
}
