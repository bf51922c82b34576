import Postgres

/// Checks that the objects a migration creates exist (tables, indexes, views, sequences, columns,
/// functions, types), read from its parse tree.
enum ObjectVerifier {
    /// The objects of `objects` that do not exist in the database.
    static func missing(_ objects: [SchemaObject], _ db: PostgresConnection) throws -> [SchemaObject] {
        guard !objects.isEmpty else { return [] }
        var out: [SchemaObject] = []
        let relations = objects.filter { [.table, .index, .view, .sequence].contains($0.kind) }
        if !relations.isEmpty {
            let names = relations.map(\.relation.quoted)
            let absent = Set(try db.query("SELECT n FROM unnest($1::text[]) AS n WHERE to_regclass(n) IS NULL", [names])
                .rows.compactMap { $0["n"].string })
            out += relations.filter { absent.contains($0.relation.quoted) }
        }
        let types = objects.filter { $0.kind == .type }
        if !types.isEmpty {
            let absent = Set(try db.query("SELECT n FROM unnest($1::text[]) AS n WHERE to_regtype(n) IS NULL", [types.map(\.relation.quoted)])
                .rows.compactMap { $0["n"].string })
            out += types.filter { absent.contains($0.relation.quoted) }
        }
        let columns = objects.filter { $0.kind == .column }
        if !columns.isEmpty {
            let rows = try db.query("""
                SELECT t, c FROM unnest($1::text[], $2::text[]) AS u(t, c)
                 WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
                                    WHERE a.attrelid = to_regclass(u.t) AND a.attname = u.c AND NOT a.attisdropped)
                """, [columns.map(\.relation.quoted), columns.map { $0.column ?? "" }]).rows
            let absent = Set(rows.map { ($0["t"].string ?? "") + "\u{1}" + ($0["c"].string ?? "") })
            out += columns.filter { absent.contains($0.relation.quoted + "\u{1}" + ($0.column ?? "")) }
        }
        let functions = objects.filter { $0.kind == .function }
        if !functions.isEmpty {
            let rows = try db.query("""
                SELECT s, f FROM unnest($1::text[], $2::text[]) AS u(s, f)
                 WHERE NOT EXISTS (SELECT 1 FROM pg_proc p
                                    WHERE p.proname = u.f
                                      AND (CASE WHEN u.s = '' THEN pg_function_is_visible(p.oid)
                                                ELSE p.pronamespace = to_regnamespace(quote_ident(u.s))::oid END))
                """, [functions.map { $0.relation.schema ?? "" }, functions.map(\.relation.name)]).rows
            let absent = Set(rows.map { ($0["s"].string ?? "") + "." + ($0["f"].string ?? "") })
            out += functions.filter { absent.contains(($0.relation.schema ?? "") + "." + $0.relation.name) }
        }
        let schemas = objects.filter { $0.kind == .schema }
        if !schemas.isEmpty {
            let absent = Set(try db.query("SELECT n FROM unnest($1::text[]) AS n WHERE to_regnamespace(quote_ident(n)) IS NULL",
                                          [schemas.map(\.relation.name)]).rows.compactMap { $0["n"].string })
            out += schemas.filter { absent.contains($0.relation.name) }
        }
        return out
    }
}
