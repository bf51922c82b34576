import Foundation

/// A node of libpg_query's JSON parse tree, kept as a small Sendable value.
public indirect enum SQLNode: Sendable, Equatable {
    case object([String: SQLNode])
    case array([SQLNode])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    public subscript(_ key: String) -> SQLNode? {
        if case let .object(o) = self { return o[key] }
        return nil
    }

    public var object: [String: SQLNode]? { if case let .object(o) = self { return o } else { return nil } }
    public var items: [SQLNode] { if case let .array(a) = self { return a } else { return [] } }
    public var string: String? { if case let .string(s) = self { return s } else { return nil } }
    public var int: Int? { if case let .number(n) = self { return Int(exactly: n) } else { return nil } }
    /// Absent booleans are false in libpg_query's JSON.
    public var isTrue: Bool { if case let .bool(b) = self { return b } else { return false } }

    /// The single key of a wrapper node (`{"CreateStmt": {...}}` -> "CreateStmt").
    public var tag: String? { if case let .object(o) = self, o.count == 1 { return o.keys.first } else { return nil } }
    /// The body of a wrapper node.
    public var body: SQLNode? { tag.flatMap { self[$0] } }

    /// `{"String": {"sval": "x"}}` -> "x".
    public var stringValue: String? { self["String"]?["sval"]?.string }

    /// A list of String nodes (`names`, `funcname`) -> ["pg_catalog", "int4"].
    public var names: [String] { items.compactMap(\.stringValue) }

    /// Every object node below (and including) this one, depth first.
    public func walk(_ visit: (String?, SQLNode) -> Void) {
        walk(key: nil, visit)
    }

    private func walk(key: String?, _ visit: (String?, SQLNode) -> Void) {
        switch self {
        case let .object(o):
            visit(key, self)
            for (k, v) in o { v.walk(key: k, visit) }
        case let .array(a):
            for v in a { v.walk(key: key, visit) }
        default: break
        }
    }
}

/// A relation named in a statement (`schema.table`), from a RangeVar.
public struct RelationName: Hashable, Sendable, CustomStringConvertible {
    public var schema: String?
    public var name: String

    public init(schema: String? = nil, name: String) {
        self.schema = schema
        self.name = name
    }

    init?(rangeVar: SQLNode?) {
        guard let rv = rangeVar, let name = rv["relname"]?.string else { return nil }
        self.init(schema: rv["schemaname"]?.string, name: name)
    }

    /// From a dotted name list (`DROP TABLE a.b`).
    init?(names: [String]) {
        guard let last = names.last else { return nil }
        self.init(schema: names.count > 1 ? names[names.count - 2] : nil, name: last)
    }

    public var description: String { schema.map { "\($0).\(name)" } ?? name }
    /// Quoted for to_regclass().
    public var quoted: String {
        // Names with a double quote in them are rare: skip Foundation's search (asked per object per migration).
        func q(_ s: String) -> String {
            "\"" + (s.utf8.contains(UInt8(ascii: "\"")) ? s.replacingOccurrences(of: "\"", with: "\"\"") : s) + "\""
        }
        return schema.map { q($0) + "." + q(name) } ?? q(name)
    }
    /// Same table ignoring a missing schema (`public.a` == `a`).
    public var unqualified: RelationName { RelationName(name: name) }
}

extension Optional where Wrapped == SQLNode {
    /// Absent booleans are false.
    var isTrue: Bool { self?.isTrue ?? false }
}
