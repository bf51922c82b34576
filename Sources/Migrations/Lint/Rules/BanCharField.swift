extension LintRules {
    static let banCharField = LintRule(
        id: "ban-char-field", severity: .warning,
        rationale: "char(n) pads with spaces, wastes space and compares surprisingly.",
        alternative: "text (with a CHECK on length if needed)."
    ) { c in
        c.columnDefinitions.filter { TypeNames.name($0) == "bpchar" }.map { "column \($0["colname"]?.string ?? "?") is char(n)" }
    }
}
