extension LintRules {
    static let banDropColumn = LintRule(
        id: "ban-drop-column", severity: .error,
        rationale: "Dropping a column breaks every running version of the application that still reads or writes it.",
        alternative: "Stop using the column in the application first, deploy, then drop it in a later release."
    ) { c in
        c.alterCommands.filter { $0.subtype == "AT_DropColumn" }.map { "drops column \($0.cmd["name"]?.string ?? "?")" }
    }
}
