extension LintRules {
    static let banDropTable = LintRule(
        id: "ban-drop-table", severity: .error,
        rationale: "Dropping a table loses its data and breaks any running code that uses it.",
        alternative: "Stop using the table, keep it for a release, then drop it deliberately (with -- opsctl:ignore ban-drop-table)."
    ) { c in
        guard c.statement.kind == "DropStmt", c.node["removeType"]?.string == "OBJECT_TABLE" else { return [] }
        let names = SchemaEffects.dropTargets(c.node).filter { c.isExisting($0.relation) }.map(\.relation.description)
        return names.isEmpty ? [] : ["drops table \(names.joined(separator: ", "))"]
    }
}
