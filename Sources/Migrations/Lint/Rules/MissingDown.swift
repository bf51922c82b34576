extension LintRules {
    static let missingDown = RepositoryRule(
        id: "missing-down", severity: .error,
        rationale: "Without a down script the migration cannot be rolled back during an incident.",
        alternative: "Write the down script (the name given by down_pattern), or a `-- migrate:down` section."
    ) { ctx in
        ctx.set.problems.filter { $0.rule == "missing-down" }.map { (SourceLocation(file: $0.file, line: 1, column: 1), $0.message) }
    }
}
