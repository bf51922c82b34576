extension LintRules {
    static let syntaxError = RepositoryRule(
        id: "syntax-error", severity: .error,
        rationale: "The Postgres parser rejects the script: applying it fails half way through a deploy.",
        alternative: "Fix the SQL at the reported position."
    ) { ctx in
        var out: [(SourceLocation, String)] = []
        for m in ctx.set.migrations {
            if ctx.ups[m.upFile] == nil, case let .failure(e) = Result(catching: { try SQLParser.parse(m.up, file: m.upFile) }),
               let s = e as? SQLSyntaxError {
                out.append((s.location, "syntax error: \(s.message)"))
            }
            if let down = m.down, let file = m.downFile, ctx.downs[m.upFile] == nil,
               case let .failure(e) = Result(catching: { try SQLParser.parse(down, file: file) }), let s = e as? SQLSyntaxError {
                out.append((s.location, "syntax error in down script: \(s.message)"))
            }
        }
        return out
    }
}
