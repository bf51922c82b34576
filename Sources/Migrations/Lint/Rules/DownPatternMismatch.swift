extension LintRules {
    static let downPatternMismatch = RepositoryRule(
        id: "down-pattern-mismatch", severity: .error,
        rationale: "A rollback file named differently from what the runner looks for is never found: every rollback fails, or the file runs as an up migration.",
        alternative: "Rename the file to match down_pattern, or set down_pattern (opsctl.yaml) to the naming the project uses."
    ) { ctx in
        ctx.set.problems.filter { $0.rule == "down-pattern-mismatch" }.map { (SourceLocation(file: $0.file, line: 1, column: 1), $0.message) }
    }
}
