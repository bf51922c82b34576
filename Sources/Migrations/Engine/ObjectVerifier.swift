import Postgres

/// Checks that the objects a migration creates exist (tables, indexes, views, sequences, columns,
/// functions, types), read from its parse tree.
enum ObjectVerifier {
    /// One catalog query and how to read the objects it reports absent.
    struct Check {
        var statement: PipelinedStatement
        var absent: (QueryResult) -> [SchemaObject]

        /// The same question as a statement that fails (division by zero, SQLSTATE 22012) when anything
        /// is absent: in a migration's pipeline it stops the COMMIT queued behind it, so a migration whose
        /// objects are missing never commits. The check before it has already said which ones.
        var guardStatement: PipelinedStatement {
            PipelinedStatement("SELECT 1 / (NOT EXISTS (\(statement.sql)))::int AS verified", statement.parameters, prepared: true)
        }

        static let guardFailed = "22012"
    }

    /// The objects of `objects` that do not exist in the database.
    static func missing(_ objects: [SchemaObject], _ db: PostgresConnection) throws -> [SchemaObject] {
        try checks(objects).flatMap { c in c.absent(try db.query(c.statement.sql, c.statement.parameters)) }
    }

    /// The queries that find the absent ones: at most one per kind of object, so they can run in a
    /// migration's pipeline as well as on their own.
    static func checks(_ objects: [SchemaObject]) -> [Check] {
        guard !objects.isEmpty else { return [] }
        var out: [Check] = []
        let relations = objects.filter { [.table, .index, .view, .sequence].contains($0.kind) }
        if !relations.isEmpty {
            out.append(Check(statement: .init("SELECT n FROM unnest($1::text[]) AS n WHERE to_regclass(n) IS NULL", [relations.map(\.relation.quoted)], prepared: true)) { r in
                let absent = Set(r.rows.compactMap { $0["n"].string })
                return relations.filter { absent.contains($0.relation.quoted) }
            })
        }
        let types = objects.filter { $0.kind == .type }
        if !types.isEmpty {
            out.append(Check(statement: .init("SELECT n FROM unnest($1::text[]) AS n WHERE to_regtype(n) IS NULL", [types.map(\.relation.quoted)], prepared: true)) { r in
                let absent = Set(r.rows.compactMap { $0["n"].string })
                return types.filter { absent.contains($0.relation.quoted) }
            })
        }
        let columns = objects.filter { $0.kind == .column }
        if !columns.isEmpty {
            out.append(Check(statement: .init("""
                SELECT t, c FROM unnest($1::text[], $2::text[]) AS u(t, c)
                 WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
                                    WHERE a.attrelid = to_regclass(u.t) AND a.attname = u.c AND NOT a.attisdropped)
                """, [columns.map(\.relation.quoted), columns.map { $0.column ?? "" }], prepared: true)) { r in
                let absent = Set(r.rows.map { ($0["t"].string ?? "") + "\u{1}" + ($0["c"].string ?? "") })
                return columns.filter { absent.contains($0.relation.quoted + "\u{1}" + ($0.column ?? "")) }
            })
        }
        let functions = objects.filter { $0.kind == .function }
        if !functions.isEmpty {
            out.append(Check(statement: .init("""
                SELECT s, f FROM unnest($1::text[], $2::text[]) AS u(s, f)
                 WHERE NOT EXISTS (SELECT 1 FROM pg_proc p
                                    WHERE p.proname = u.f
                                      AND (CASE WHEN u.s = '' THEN pg_function_is_visible(p.oid)
                                                ELSE p.pronamespace = to_regnamespace(quote_ident(u.s))::oid END))
                """, [functions.map { $0.relation.schema ?? "" }, functions.map(\.relation.name)], prepared: true)) { r in
                let absent = Set(r.rows.map { ($0["s"].string ?? "") + "." + ($0["f"].string ?? "") })
                return functions.filter { absent.contains(($0.relation.schema ?? "") + "." + $0.relation.name) }
            })
        }
        let schemas = objects.filter { $0.kind == .schema }
        if !schemas.isEmpty {
            out.append(Check(statement: .init("SELECT n FROM unnest($1::text[]) AS n WHERE to_regnamespace(quote_ident(n)) IS NULL",
                                              [schemas.map(\.relation.name)], prepared: true)) { r in
                let absent = Set(r.rows.compactMap { $0["n"].string })
                return schemas.filter { absent.contains($0.relation.name) }
            })
        }
        return out
    }
}
