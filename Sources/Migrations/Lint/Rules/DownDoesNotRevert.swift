extension LintRules {
    static let downDoesNotRevert = RepositoryRule(
        id: "down-does-not-revert", severity: .error,
        rationale: "A down script that leaves objects of its up behind makes the next up fail (\"already exists\") and rollbacks lie.",
        alternative: "Drop, in the down script, every table, index, column, view, sequence, function and type the up creates."
    ) { ctx in
        var out: [(SourceLocation, String)] = []
        for m in ctx.set.migrations {
            guard let up = ctx.ups[m.upFile], let down = ctx.downs[m.upFile], let downFile = m.downFile else { continue }
            let created = up.effects.created
            let dropped = down.effects.dropped
            let droppedKeys = Set(dropped.map { "\($0.kind.rawValue) \($0.relation.name)\($0.column.map { "." + $0 } ?? "")" })
            let droppedTables = Set(dropped.filter { $0.kind == .table }.map(\.relation.name))
            let droppedSchemas = Set(dropped.filter { $0.kind == .schema }.map(\.relation.name))
            // Indexes go with their table.
            var indexTable: [String: String] = [:]
            for s in up.statements where s.kind == "IndexStmt" {
                if let i = s.node["idxname"]?.string, let t = s.node["relation"]?["relname"]?.string { indexTable[i] = t }
            }
            let left = created.filter { o in
                if let schema = o.relation.schema, droppedSchemas.contains(schema) { return false }
                switch o.kind {
                case .column: return !droppedTables.contains(o.relation.name) && !droppedKeys.contains("column \(o.relation.name).\(o.column ?? "")")
                case .index: return !droppedKeys.contains("index \(o.relation.name)") && !droppedTables.contains(indexTable[o.relation.name] ?? "")
                default: return !droppedKeys.contains("\(o.kind.rawValue) \(o.relation.name)")
                }
            }
            if !left.isEmpty {
                out.append((SourceLocation(file: downFile, line: 1, column: 1),
                            "does not drop what \(m.upFile) creates: " + left.map(\.description).joined(separator: ", ")))
            }
        }
        return out
    }
}
