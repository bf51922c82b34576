/// A schema object a migration creates or drops, named as in its SQL.
public struct SchemaObject: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable { case table, index, view, sequence, column, function, type, schema }
    public var kind: Kind
    /// Table, index, view, sequence, type or function name (with schema when written).
    public var relation: RelationName
    /// Column name for `.column`.
    public var column: String?

    public var description: String {
        column.map { "\(kind.rawValue) \(relation).\($0)" } ?? "\(kind.rawValue) \(relation)"
    }
}

/// What a script does to the schema, read from its parse tree.
public struct SchemaEffects: Sendable {
    /// Objects created and still present at the end of the script (in order).
    public var created: [SchemaObject] = []
    /// Objects the script drops.
    public var dropped: [SchemaObject] = []
    /// Tables the script reads or alters that it did not create itself.
    public var referenced: [RelationName] = []

    /// Linear in the number of statements (a 200k-statement migration is verified with it).
    public init(_ statements: [SQLStatement]) {
        var createdTables = Set<RelationName>()
        var seenReferences = Set<RelationName>()
        for s in statements {
            let n = s.node
            var made: [SchemaObject] = []
            var removed: [SchemaObject] = []
            switch s.kind {
            case "CreateStmt":
                if let r = RelationName(rangeVar: n["relation"]) { made.append(.init(kind: .table, relation: r)) }
            case "CreateTableAsStmt":
                if let r = RelationName(rangeVar: n["into"]?["rel"]) {
                    made.append(.init(kind: n["objtype"]?.string == "OBJECT_MATVIEW" ? .view : .table, relation: r))
                }
            case "IndexStmt":
                if let name = n["idxname"]?.string {
                    made.append(.init(kind: .index, relation: RelationName(schema: n["relation"]?["schemaname"]?.string, name: name)))
                }
            case "ViewStmt":
                if let r = RelationName(rangeVar: n["view"]) { made.append(.init(kind: .view, relation: r)) }
            case "CreateSeqStmt":
                if let r = RelationName(rangeVar: n["sequence"]) { made.append(.init(kind: .sequence, relation: r)) }
            case "CreateFunctionStmt":
                if let r = RelationName(names: n["funcname"]?.names ?? []) { made.append(.init(kind: .function, relation: r)) }
            case "CreateEnumStmt", "CreateDomainStmt":
                let key = s.kind == "CreateEnumStmt" ? "typeName" : "domainname"
                if let r = RelationName(names: n[key]?.names ?? []) { made.append(.init(kind: .type, relation: r)) }
            case "CompositeTypeStmt":
                if let r = RelationName(rangeVar: n["typevar"]) { made.append(.init(kind: .type, relation: r)) }
            case "CreateSchemaStmt":
                if let name = n["schemaname"]?.string { made.append(.init(kind: .schema, relation: RelationName(name: name))) }
            case "AlterTableStmt":
                guard let table = RelationName(rangeVar: n["relation"]) else { break }
                for cmd in n["cmds"]?.items ?? [] {
                    let c = cmd["AlterTableCmd"] ?? .null
                    switch c["subtype"]?.string {
                    case "AT_AddColumn":
                        if let col = c["def"]?["ColumnDef"]?["colname"]?.string { made.append(.init(kind: .column, relation: table, column: col)) }
                    case "AT_DropColumn":
                        if let col = c["name"]?.string { removed.append(.init(kind: .column, relation: table, column: col)) }
                    default: break
                    }
                }
            case "DropStmt":
                removed.append(contentsOf: Self.dropTargets(n))
            case "RenameStmt":
                if n["renameType"]?.string == "OBJECT_TABLE", let from = RelationName(rangeVar: n["relation"]),
                   let to = n["newname"]?.string {
                    removed.append(.init(kind: .table, relation: from))
                    made.append(.init(kind: .table, relation: RelationName(schema: from.schema, name: to)))
                }
            default: break
            }
            // Everything the statement names, minus what it creates.
            let own = Set(made.filter { $0.kind == .table || $0.kind == .view }.map(\.relation.unqualified))
            for r in Self.relations(in: s.tree) where !own.contains(r.unqualified) && !createdTables.contains(r.unqualified) {
                if seenReferences.insert(r).inserted { referenced.append(r) }
            }
            for m in made where m.kind == .table || m.kind == .view { createdTables.insert(m.relation.unqualified) }
            created.append(contentsOf: made)
            guard !removed.isEmpty else { continue }
            created.removeLast(made.count)
            dropped.append(contentsOf: removed)
            let drops = Set(removed.map { SchemaObject(kind: $0.kind, relation: $0.relation.unqualified, column: $0.column) })
            let droppedTables = Set(removed.filter { $0.kind == .table }.map(\.relation.unqualified))
            created.removeAll {
                drops.contains(SchemaObject(kind: $0.kind, relation: $0.relation.unqualified, column: $0.column))
                    || ($0.kind == .column && droppedTables.contains($0.relation.unqualified))
            }
            created.append(contentsOf: made)
        }
    }

    /// Objects named by a DROP statement.
    static func dropTargets(_ n: SQLNode) -> [SchemaObject] {
        let kind: SchemaObject.Kind
        switch n["removeType"]?.string {
        case "OBJECT_TABLE": kind = .table
        case "OBJECT_INDEX": kind = .index
        case "OBJECT_VIEW", "OBJECT_MATVIEW": kind = .view
        case "OBJECT_SEQUENCE": kind = .sequence
        case "OBJECT_FUNCTION", "OBJECT_PROCEDURE": kind = .function
        case "OBJECT_TYPE", "OBJECT_DOMAIN": kind = .type
        case "OBJECT_SCHEMA": kind = .schema
        default: return []
        }
        return (n["objects"]?.items ?? []).compactMap { o in
            let names: [String]
            if let list = o["List"]?["items"] { names = list.names }
            else if let f = o["ObjectWithArgs"]?["objname"] { names = f.names }
            else if let t = o["TypeName"]?["names"] { names = t.names }
            else if let s = o.stringValue { names = [s] }
            else { names = [] }
            return RelationName(names: names).map { SchemaObject(kind: kind, relation: $0) }
        }
    }

    /// Every RangeVar in a tree (tables read, written, altered or referenced by a foreign key).
    static func relations(in tree: SQLNode) -> [RelationName] {
        var out: [RelationName] = []
        var ctes = Set<String>()
        tree.walk { _, node in
            if let name = node["ctename"]?.string { ctes.insert(name) }
            if node["relname"] != nil, let r = RelationName(rangeVar: node) { out.append(r) }
        }
        return out.filter { $0.schema != nil || !ctes.contains($0.name) }
    }
}

/// Statements Postgres refuses inside a transaction block.
enum TransactionSafety {
    /// Why `statement` cannot run in a transaction, or nil when it can.
    static func reason(_ statement: SQLStatement) -> String? {
        let n = statement.node
        switch statement.kind {
        case "IndexStmt" where n["concurrent"]?.isTrue == true: return "CREATE INDEX CONCURRENTLY"
        case "DropStmt" where n["concurrent"]?.isTrue == true: return "DROP INDEX CONCURRENTLY"
        case "ReindexStmt" where (n["params"]?.items ?? []).contains { $0["DefElem"]?["defname"]?.string == "concurrently" }:
            return "REINDEX CONCURRENTLY"
        case "VacuumStmt" where n["is_vacuumcmd"]?.isTrue == true: return "VACUUM"
        case "CreatedbStmt": return "CREATE DATABASE"
        case "DropdbStmt": return "DROP DATABASE"
        case "AlterSystemStmt": return "ALTER SYSTEM"
        case "CreateTableSpaceStmt": return "CREATE TABLESPACE"
        case "DropTableSpaceStmt": return "DROP TABLESPACE"
        case "AlterSubscriptionStmt", "CreateSubscriptionStmt", "DropSubscriptionStmt": return "subscription DDL"
        default: return nil
        }
    }
}
