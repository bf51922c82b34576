extension LintRules {
    static let banDropDatabase = LintRule(
        id: "ban-drop-database", severity: .error,
        rationale: "A migration must never drop a database.",
        alternative: "Drop databases by hand, outside migrations."
    ) { c in
        c.statement.kind == "DropdbStmt" ? ["drops database \(c.node["dbname"]?.string ?? "?")"] : []
    }
}
