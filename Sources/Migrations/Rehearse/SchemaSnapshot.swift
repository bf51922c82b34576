import Postgres

/// The user-visible schema as sorted lines from the catalogs: relations, columns, constraints,
/// indexes, functions, types, triggers, policies, schemas, extensions. Two snapshots are equal
/// when the schemas are.
public struct SchemaSnapshot: Sendable, Equatable {
    public var lines: [String]

    static let query = """
        WITH ns AS (
            SELECT oid, nspname FROM pg_namespace
             WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND nspname NOT LIKE 'pg\\_temp%'
               AND nspname NOT LIKE 'pg\\_toast\\_temp%' AND NOT (nspname = ANY($1::text[]))
        ), rel AS (
            SELECT c.* FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE NOT (c.relname = ANY($2::text[]))
        )
        SELECT line FROM (
            SELECT format('schema %I', nspname) AS line FROM ns WHERE nspname <> 'public'
            UNION ALL SELECT format('extension %I', extname) FROM pg_extension WHERE extname <> 'plpgsql'
            UNION ALL SELECT format('relation %s kind=%s rls=%s force=%s', c.oid::regclass, c.relkind, c.relrowsecurity, c.relforcerowsecurity)
                        FROM rel c WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
            UNION ALL SELECT format('column %s.%I %s notnull=%s default=%s identity=%s generated=%s', a.attrelid::regclass, a.attname,
                                    format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated)
                        FROM pg_attribute a JOIN rel c ON c.oid = a.attrelid
                        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                       WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
            UNION ALL SELECT format('constraint %s %I %s', co.conrelid::regclass, co.conname, pg_get_constraintdef(co.oid))
                        FROM pg_constraint co JOIN rel c ON c.oid = co.conrelid
            UNION ALL SELECT format('index %s', pg_get_indexdef(i.indexrelid)) FROM pg_index i JOIN rel c ON c.oid = i.indexrelid
            UNION ALL SELECT format('function %s(%s) returns %s hash=%s', p.oid::regproc, pg_get_function_identity_arguments(p.oid),
                                    pg_get_function_result(p.oid), md5(coalesce(p.prosrc, '')))
                        FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
                        WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
            UNION ALL SELECT format('type %s kind=%s labels=%s', t.oid::regtype, t.typtype,
                                    (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid))
                        FROM pg_type t JOIN ns ON ns.oid = t.typnamespace WHERE t.typtype IN ('e', 'd')
            UNION ALL SELECT format('trigger %s', pg_get_triggerdef(tg.oid)) FROM pg_trigger tg JOIN rel c ON c.oid = tg.tgrelid WHERE NOT tg.tgisinternal
            UNION ALL SELECT format('policy %s %I cmd=%s using=%s check=%s', po.polrelid::regclass, po.polname, po.polcmd,
                                    pg_get_expr(po.polqual, po.polrelid), pg_get_expr(po.polwithcheck, po.polrelid))
                        FROM pg_policy po JOIN rel c ON c.oid = po.polrelid
        ) s ORDER BY line
        """

    /// Takes a snapshot, leaving out the history table (and its schema when it is not `public`).
    static func take(_ db: PostgresConnection, history: HistoryTable) throws -> SchemaSnapshot {
        let skipSchemas = history.schema == "public" ? [String]() : [history.schema]
        let skipRelations = [history.name, history.name + "_events", history.name + "_events_id_seq", history.name + "_pkey", history.name + "_events_pkey"]
        let rows = try db.query(query, [skipSchemas, skipRelations]).rows
        return SchemaSnapshot(lines: rows.compactMap { $0["line"].string })
    }

    /// Lines only in `self` (+) and only in `other` (-).
    public func difference(from other: SchemaSnapshot) -> [String] {
        let a = Set(lines), b = Set(other.lines)
        return lines.filter { !b.contains($0) }.map { "+ " + $0 } + other.lines.filter { !a.contains($0) }.map { "- " + $0 }
    }
}
