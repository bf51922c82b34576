extension LintRules {
    /// Defaults Postgres 11+ stores in the catalog without rewriting the table.
    static let nonVolatileFunctions: Set<String> = ["now", "current_timestamp", "transaction_timestamp", "statement_timestamp"]

    static let addingFieldWithDefault = LintRule(
        id: "adding-field-with-default", severity: .error,
        rationale: "ADD COLUMN with a volatile default (random(), gen_random_uuid(), clock_timestamp(), ...) or a stored generated column rewrites the table under an ACCESS EXCLUSIVE lock.",
        alternative: "Add the column without a default (or with a constant), backfill in batches, then SET DEFAULT."
    ) { c in
        var out: [String] = []
        for (t, cmd) in c.alterCommands where t == "AT_AddColumn" {
            guard let def = cmd["def"]?["ColumnDef"] else { continue }
            for con in TypeNames.constraints(def) {
                if con["contype"]?.string == "CONSTR_GENERATED" {
                    out.append("column \(def["colname"]?.string ?? "?") is a stored generated column: the table is rewritten")
                }
                guard con["contype"]?.string == "CONSTR_DEFAULT", let expr = con["raw_expr"] else { continue }
                if !isConstant(expr) {
                    out.append("column \(def["colname"]?.string ?? "?") has a volatile default: the table is rewritten")
                }
            }
        }
        return out
    }

    /// Constants, casts of constants, CURRENT_TIMESTAMP-style values and now().
    static func isConstant(_ e: SQLNode) -> Bool {
        switch e.tag {
        case "A_Const", "SQLValueFunction": return true
        case "TypeCast": return e.body?["arg"].map(isConstant) ?? false
        case "FuncCall":
            let name = e.body?["funcname"]?.names.last ?? ""
            return nonVolatileFunctions.contains(name) && (e.body?["args"]?.items.isEmpty ?? true)
        case "A_ArrayExpr": return (e.body?["elements"]?.items ?? []).allSatisfy(isConstant)
        default: return false
        }
    }
}
