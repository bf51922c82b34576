/// How bad a finding is: errors fail `lint`, warnings are reported.
public enum LintSeverity: String, Sendable, Comparable {
    case warning, error

    public static func < (a: LintSeverity, b: LintSeverity) -> Bool { a == .warning && b == .error }
}

/// One problem found by lint: which rule, where, why it matters, what to do instead.
public struct LintFinding: Sendable, CustomStringConvertible {
    public var rule: String
    public var severity: LintSeverity
    public var location: SourceLocation
    public var message: String
    public var rationale: String
    public var alternative: String

    public var description: String { "\(location): \(severity.rawValue): \(message) [\(rule)]" }
}

/// What a statement rule sees: the statement, its script, and what the script did before it.
public struct StatementContext: Sendable {
    public var statement: SQLStatement
    public var script: SQLScript
    /// Tables (unqualified) created earlier in the same script: DDL on them takes no risk.
    public var createdInScript: Set<RelationName>
    /// False when the runner will execute this script outside a transaction.
    public var transactional: Bool
    /// An explicit `BEGIN` earlier in the file is still open.
    public var insideExplicitTransaction: Bool
    /// `SET lock_timeout` / `SET statement_timeout` ran earlier in the file.
    public var lockTimeoutSet: Bool
    public var statementTimeoutSet: Bool
    /// Earlier statements already reported by `require-timeout-settings`.
    public var timeoutReported: Bool

    var node: SQLNode { statement.node }

    /// True when `relation` existed before this migration (it is not created in the same script).
    public func isExisting(_ relation: RelationName?) -> Bool {
        guard let relation else { return true }
        return !createdInScript.contains(relation.unqualified)
    }

    /// `ALTER TABLE` subcommands of this statement with their subtype, on an existing table.
    var alterCommands: [(subtype: String, cmd: SQLNode)] {
        guard statement.kind == "AlterTableStmt", isExisting(RelationName(rangeVar: node["relation"])) else { return [] }
        return (node["cmds"]?.items ?? []).compactMap { c in
            guard let cmd = c["AlterTableCmd"], let t = cmd["subtype"]?.string else { return nil }
            return (t, cmd)
        }
    }

    /// Column definitions this statement introduces (CREATE TABLE and ADD COLUMN).
    var columnDefinitions: [SQLNode] {
        var out: [SQLNode] = []
        if statement.kind == "CreateStmt" {
            out += (node["tableElts"]?.items ?? []).compactMap { $0["ColumnDef"] }
        }
        if statement.kind == "AlterTableStmt" {
            for c in node["cmds"]?.items ?? [] where c["AlterTableCmd"]?["subtype"]?.string == "AT_AddColumn" {
                if let def = c["AlterTableCmd"]?["def"]?["ColumnDef"] { out.append(def) }
            }
        }
        return out
    }
}

/// A rule checked on each statement of an up script. One rule per file under `Lint/Rules/`.
public struct LintRule: Sendable {
    public var id: String
    public var severity: LintSeverity
    /// Why the pattern is dangerous.
    public var rationale: String
    /// What to write instead.
    public var alternative: String
    /// Messages for `context.statement` (empty when it is fine).
    let check: @Sendable (StatementContext) -> [String]

    public init(id: String, severity: LintSeverity, rationale: String, alternative: String,
                check: @escaping @Sendable (StatementContext) -> [String]) {
        self.id = id
        self.severity = severity
        self.rationale = rationale
        self.alternative = alternative
        self.check = check
    }
}

/// A rule over the whole set of migrations (numbering, downs, ordering).
public struct RepositoryRule: Sendable {
    public var id: String
    public var severity: LintSeverity
    public var rationale: String
    public var alternative: String
    /// (location, message) pairs.
    let check: @Sendable (RepositoryContext) -> [(SourceLocation, String)]
}

/// What repository rules see: the files, and each migration's parsed scripts (nil when unparseable).
public struct RepositoryContext: Sendable {
    public var set: MigrationSet
    public var ups: [String: SQLScript]
    public var downs: [String: SQLScript]
}

/// Helpers shared by rules that read type names.
enum TypeNames {
    /// `pg_catalog.int4` -> "int4"; `varchar` stays.
    static func name(_ column: SQLNode) -> String? { column["typeName"]?["names"]?.names.last }
    static func hasModifiers(_ column: SQLNode) -> Bool { !(column["typeName"]?["typmods"]?.items.isEmpty ?? true) }
    static func constraints(_ column: SQLNode) -> [SQLNode] {
        (column["constraints"]?.items ?? []).compactMap { $0["Constraint"] }
    }
}
