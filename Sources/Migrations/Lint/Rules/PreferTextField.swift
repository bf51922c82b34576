extension LintRules {
    static let preferTextField = LintRule(
        id: "prefer-text-field", severity: .warning,
        rationale: "Changing a varchar(n) limit later takes an ACCESS EXCLUSIVE lock; text with a CHECK constraint can be changed cheaply.",
        alternative: "text, with CHECK (char_length(col) <= n) if a limit matters."
    ) { c in
        c.columnDefinitions.filter { TypeNames.name($0) == "varchar" && TypeNames.hasModifiers($0) }
            .map { "column \($0["colname"]?.string ?? "?") is varchar(n)" }
    }
}
