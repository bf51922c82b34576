extension LintRules {
    static let forwardReference = RepositoryRule(
        id: "forward-reference", severity: .error,
        rationale: "A migration that uses a table created by a later number works on the developer's database and fails on a fresh one.",
        alternative: "Renumber so the table is created first, or move the dependent statement into a later migration."
    ) { ctx in
        var createdBy: [String: Int64] = [:]
        for m in ctx.set.migrations {
            guard let up = ctx.ups[m.upFile] else { continue }
            for o in up.effects.created where o.kind == .table || o.kind == .view {
                if createdBy[o.relation.name] == nil { createdBy[o.relation.name] = m.version }
            }
        }
        var out: [(SourceLocation, String)] = []
        for m in ctx.set.migrations {
            guard let up = ctx.ups[m.upFile] else { continue }
            // Names of what the script has created (and not dropped) up to and including each statement,
            // kept as counts so the walk stays linear in the number of statements.
            var present: [String: Int] = [:]
            let each = up.statementEffects
            for s in up.statements {
                let own = each[s.index]
                // A statement that drops objects changes what is present: recount from its effects on the prefix.
                if !own.dropped.isEmpty {
                    present = [:]
                    for o in SchemaEffects(Array(up.statements[0...s.index])).created { present[o.relation.name, default: 0] += 1 }
                } else {
                    for o in own.created { present[o.relation.name, default: 0] += 1 }
                }
                for r in own.referenced where present[r.name] == nil {
                    if let later = createdBy[r.name], later > m.version {
                        out.append((s.location, "uses table \(r) which is only created by version \(later): a fresh database fails here"))
                    }
                }
            }
        }
        return out
    }
}
