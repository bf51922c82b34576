extension LintRules {
    static let duplicateVersion = RepositoryRule(
        id: "duplicate-version", severity: .error,
        rationale: "Two migrations with one number: runners apply one and silently skip the other, or apply them in an arbitrary order.",
        alternative: "Renumber the newer file to the next free version."
    ) { ctx in
        ctx.set.problems.filter { $0.rule == "duplicate-version" }.map { (SourceLocation(file: $0.file, line: 1, column: 1), $0.message) }
    }
}
