import CPgQuery
import Foundation
import Support

/// A script the Postgres parser rejected: where and why.
public struct SQLSyntaxError: Error, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public var description: String { "\(location): syntax error: \(message)" }
}

/// Splits and parses SQL with libpg_query (the server's own grammar): dollar quotes, E'' strings,
/// nested comments and `CREATE RULE (...; ...)` are the parser's business, not ours.
public enum SQLParser {
    /// Parses `sql` (the contents of `file`) into statements with their parse trees. Once `cancellation`
    /// is cancelled a long script stops being read (`CancellationError`): an interrupt must not wait for
    /// 200k statements to be parsed.
    public static func parse(_ sql: String, file: String, cancellation: Cancellation? = nil) throws -> SQLScript {
        if cancellation?.isCancelled == true { throw CancellationError() }
        if let hit = ParseCache.shared.lookup(sql, file: file) { return hit }
        let script = try parseUncached(sql, file: file, cancellation: cancellation)
        ParseCache.shared.store(script)
        return script
    }

    /// `onDeepStack`: the caller already runs on a deep-stack thread (a batch of files handed over once).
    static func parseUncached(_ sql: String, file: String, cancellation: Cancellation?, onDeepStack: Bool = false) throws -> SQLScript {
        let lines = LineMap(sql)
        if let run = OperatorRuns.firstTooLong(lines.bytes) {
            throw SQLSyntaxError(location: lines.location(ofByte: run.offset, file: file),
                                 message: "a run of \(run.length) operator characters (an operator is at most 63)")
        }
        // One pass of the parser: each statement's bounds come with its tree (the RawStmt's location
        // and length, what pg_query_split_with_parser reports from a parse of its own).
        let parsed = try onDeepStack ? parseTreesOnThisThread(sql, file: file, lines: lines, cancellation: cancellation)
                                     : parseTrees(sql, file: file, lines: lines, cancellation: cancellation)
        var statements: [SQLStatement] = []
        statements.reserveCapacity(parsed.count)
        for (i, p) in parsed.enumerated() {
            // A zero length means "to the end of the input".
            let start = p.location, length = p.length == 0 ? lines.bytes.count - start : p.length
            if i & 1023 == 1023, cancellation?.isCancelled == true { throw CancellationError() }
            let slice = Array(lines.bytes[start..<min(lines.bytes.count, start + length)])
            let text = String(decoding: slice, as: UTF8.self)
            let lead = leadingTriviaLength(slice)
            let comments = String(decoding: slice[0..<lead], as: UTF8.self)
            statements.append(SQLStatement(index: i, text: text, location: lines.location(ofByte: start + lead, file: file),
                                           byteOffset: start, tree: p.tree, leadingComments: comments))
        }
        return SQLScript(file: file, source: sql, statements: statements, lines: lines)
    }

    /// The statements' parse trees from `pg_query_parse` (JSON), each with its byte offset and length
    /// in `sql` (0: to the end).
    static func parseTrees(_ sql: String, file: String, lines: LineMap, cancellation: Cancellation? = nil) throws -> [ParsedStatement] {
        // libpg_query writes the tree by recursion, one level per operator of `1+1+…`: on a deep stack.
        try DeepStack.run { Result { try parseTreesOnThisThread(sql, file: file, lines: lines, cancellation: cancellation) } }.get()
    }

    typealias ParsedStatement = (location: Int, length: Int, tree: SQLNode)

    static func parseTreesOnThisThread(_ sql: String, file: String, lines: LineMap, cancellation: Cancellation?) throws -> [ParsedStatement] {
        let result = pg_query_parse(sql)
        defer { pg_query_free_parse_result(result) }
        if let error = result.error { throw syntaxError(error, file: file, lines: lines) }
        guard let raw = result.parse_tree else { return [] }
        let tree = raw.withMemoryRebound(to: UInt8.self, capacity: strlen(raw)) {
            TreeJSON.parse(UnsafeBufferPointer(start: $0, count: strlen(raw)), shouldStop: cancellation.map { c in { c.isCancelled } })
        }
        if cancellation?.isCancelled == true { throw CancellationError() }
        guard let tree = tree.tree else {
            throw SQLSyntaxError(location: SourceLocation(file: file, line: 1, column: 1),
                                 message: tree.tooDeep ? "expressions nested too deeply (more than \(TreeJSON.maxDepth) levels in the parse tree); split the statement"
                                                       : "unreadable parse tree")
        }
        // Zero fields are left out of the JSON: the first statement's location, a last statement's length.
        return tree["stmts"]?.items.map { ($0["stmt_location"]?.int ?? 0, $0["stmt_len"]?.int ?? 0, $0["stmt"] ?? .null) } ?? []
    }

    static func syntaxError(_ error: UnsafeMutablePointer<PgQueryError>, file: String, lines: LineMap) -> SQLSyntaxError {
        let message = error.pointee.message.map { String(cString: $0) } ?? "syntax error"
        // cursorpos is a 1-based byte offset (0 when unknown).
        let position = Int(error.pointee.cursorpos)
        let location = lines.location(ofByte: max(0, position - 1), file: file)
        return SQLSyntaxError(location: location, message: message)
    }

    /// Bytes of whitespace and comments (line and nested block) before the first token.
    static func leadingTriviaLength(_ b: [UInt8]) -> Int {
        var i = 0
        while i < b.count {
            let c = b[i]
            if c == 32 || c == 9 || c == 10 || c == 13 || c == 12 {
                i += 1
            } else if c == 45, i + 1 < b.count, b[i + 1] == 45 {
                while i < b.count, b[i] != 10 { i += 1 }
            } else if c == 47, i + 1 < b.count, b[i + 1] == 42 {
                var depth = 0
                repeat {
                    if i + 1 < b.count, b[i] == 47, b[i + 1] == 42 { depth += 1; i += 2 }
                    else if i + 1 < b.count, b[i] == 42, b[i + 1] == 47 { depth -= 1; i += 2 }
                    else { i += 1 }
                } while depth > 0 && i < b.count
            } else {
                break
            }
        }
        return i
    }
}
