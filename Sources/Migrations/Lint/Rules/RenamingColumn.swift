extension LintRules {
    static let renamingColumn = LintRule(
        id: "renaming-column", severity: .error,
        rationale: "Renaming a column breaks running code that uses the old name.",
        alternative: "Add the new column, write both, backfill, move readers, then drop the old column."
    ) { c in
        guard c.statement.kind == "RenameStmt", c.node["renameType"]?.string == "OBJECT_COLUMN" else { return [] }
        return ["renames column \(c.node["subname"]?.string ?? "?") to \(c.node["newname"]?.string ?? "?")"]
    }
}
