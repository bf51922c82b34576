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
        if let ascii = Self.asciiSummary(text.utf8.dropFirst(leadingComments.utf8.count)) { return ascii }
        let body = text.dropFirst(leadingComments.count).trimmingCharacters(in: .whitespacesAndNewlines)
        let oneLine = body.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        return oneLine.count > 120 ? String(oneLine.prefix(117)) + "..." : oneLine
    }
}

extension SQLStatement {
    /// `summary` of ASCII text without Foundation (a plan lists every statement of every migration):
    /// lines split at \n \r \v \f (empty ones dropped), each trimmed of spaces and tabs, joined by one
    /// space, the whole trimmed first. Nil for other text (the general path).
    static func asciiSummary(_ body: Substring.UTF8View) -> String? {
        func isBreak(_ c: UInt8) -> Bool { c == 10 || c == 13 || c == 11 || c == 12 }
        func isBlank(_ c: UInt8) -> Bool { c == 32 || c == 9 }
        guard body.allSatisfy({ $0 < 128 }) else { return nil }
        var bytes = Array(body)
        while let c = bytes.last, isBreak(c) || isBlank(c) { bytes.removeLast() }
        var start = 0
        while start < bytes.count, isBreak(bytes[start]) || isBlank(bytes[start]) { start += 1 }
        var out: [UInt8] = []
        out.reserveCapacity(min(bytes.count - start, 128))
        var i = start, first = true
        while i < bytes.count {
            var end = i
            while end < bytes.count, !isBreak(bytes[end]) { end += 1 }
            if end > i {
                var a = i, b = end
                while a < b, isBlank(bytes[a]) { a += 1 }
                while b > a, isBlank(bytes[b - 1]) { b -= 1 }
                if !first { out.append(32) }
                out += bytes[a..<b]
                first = false
                if out.count > 120 { break }
            }
            i = end + 1
        }
        if out.count > 120 { return String(decoding: out[..<117], as: UTF8.self) + "..." }
        return String(decoding: out, as: UTF8.self)
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
