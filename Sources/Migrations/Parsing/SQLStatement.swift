/// One top-level statement of a script, as split by the Postgres parser.
public struct SQLStatement: Sendable {
    /// 0-based position in its script.
    public var index: Int
    /// The statement's exact text (leading comments included, trailing semicolon excluded).
    public var text: String
    /// Where its first token is.
    public var location: SourceLocation
    /// Byte offset of `text` in the script, for mapping server error positions.
    public var byteOffset: Int
    /// The parse tree node, e.g. `{"CreateStmt": {...}}`.
    public var tree: SQLNode
    /// Comments directly before the first token (directives live there).
    public var leadingComments: String

    /// The node type: `CreateStmt`, `IndexStmt`, ...
    public var kind: String { tree.tag ?? "Unknown" }
    /// The node's fields.
    public var node: SQLNode { tree.body ?? .null }

    /// The statement text without its leading comments, shortened for messages.
    public var summary: String {
        let body = text.dropFirst(leadingComments.count).trimmingCharacters(in: .whitespacesAndNewlines)
        let oneLine = body.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        return oneLine.count > 120 ? String(oneLine.prefix(117)) + "..." : oneLine
    }
}

/// A parsed SQL file (or section of one).
public struct SQLScript: Sendable {
    public var file: String
    public var source: String
    public var statements: [SQLStatement] { didSet { memo = EffectsMemo() } }
    let lines: LineMap
    private var memo = EffectsMemo()

    init(file: String, source: String, statements: [SQLStatement], lines: LineMap) {
        self.file = file
        self.source = source
        self.statements = statements
        self.lines = lines
    }

    /// What the whole script creates and drops, worked out once per parse: apply checks the objects
    /// exist and verify checks them again, both from the parse cache's copy of the script.
    public var effects: SchemaEffects { memo.value { SchemaEffects(statements) } }

    /// What each statement does on its own (`SchemaEffects([statement])`), worked out once per parse:
    /// the lint and its forward-reference rule ask for every statement of every script.
    public var statementEffects: [SchemaEffects] { memo.perStatement { statements.map { SchemaEffects([$0]) } } }

    /// Location of a server error: `position` is 1-based in characters within `statement`.
    public func location(of statement: SQLStatement, serverPosition position: Int?) -> SourceLocation {
        guard let position, position > 0 else { return statement.location }
        let byte = lines.byteOffset(from: statement.byteOffset, characters: position - 1)
        return lines.location(ofByte: byte, file: file)
    }
}

import Foundation

/// A script's schema effects, shared by the copies of the script (it is a value; the memo is not).
private final class EffectsMemo: @unchecked Sendable {
    private let lock = NSLock()
    private var effects: SchemaEffects?
    private var each: [SchemaEffects]?

    func value(_ make: () -> SchemaEffects) -> SchemaEffects {
        if let done = lock.withLock({ effects }) { return done }
        let made = make()
        lock.withLock { effects = made }
        return made
    }

    func perStatement(_ make: () -> [SchemaEffects]) -> [SchemaEffects] {
        if let done = lock.withLock({ each }) { return done }
        let made = make()
        lock.withLock { each = made }
        return made
    }
}
