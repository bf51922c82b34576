extension LintRules {
    static let renamingTable = LintRule(
        id: "renaming-table", severity: .error,
        rationale: "Renaming a table breaks running code that uses the old name.",
        alternative: "Create the new table (or a view with the new name), migrate readers and writers, then drop the old one."
    ) { c in
        guard c.statement.kind == "RenameStmt", c.node["renameType"]?.string == "OBJECT_TABLE" else { return [] }
        return ["renames table \(RelationName(rangeVar: c.node["relation"])?.description ?? "?") to \(c.node["newname"]?.string ?? "?")"]
    }
}
