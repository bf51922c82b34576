import Checks
import Foundation

/// A `when:` / `until:` expression: comparisons of params, env and earlier step results.
///
///     when: params.mode == 'full' && steps.health.status != 'ok'
///     until: details.status == 'healthy'
///
/// Operands: paths (`params.x`, `env.X`, `steps.id.status`, `steps.id.details.a.b`), `${path}`,
/// 'strings', numbers, true/false/null. Operators: == != < <= > >= && || ! and parentheses.
public struct Condition: Sendable, Equatable, CustomStringConvertible {
    indirect enum Node: Sendable, Equatable {
        case literal(JSONValue)
        case path(String)
        case not(Node)
        case and(Node, Node)
        case or(Node, Node)
        case compare(Node, String, Node)
    }

    public let source: String
    let root: Node

    public var description: String { source }

    public struct SyntaxError: Error, CustomStringConvertible {
        public var message: String
        public var offset: Int
        public var description: String { message }
    }

    /// Parentheses and `!` nest at most this deep, and a condition has at most `maxOperands` operands: the
    /// parser and the evaluator recurse, and 100k nested parentheses used to overflow the stack (SIGSEGV).
    static let maxDepth = 64
    static let maxOperands = 256
    static let maxLength = 4096

    public init(_ source: String) throws {
        self.source = source
        guard source.utf8.count <= Self.maxLength else {
            throw SyntaxError(message: "condition is longer than \(Self.maxLength) bytes; split it into steps", offset: 0)
        }
        var parser = Parser(tokens: try Self.tokenize(source))
        root = try parser.expression()
        if let extra = parser.peek { throw SyntaxError(message: "unexpected '\(extra.text)' in condition", offset: extra.offset) }
    }

    /// Every path the condition reads (for load-time reference checks).
    public var paths: [String] {
        func walk(_ n: Node) -> [String] {
            switch n {
            case .literal: return []
            case let .path(p): return [p]
            case let .not(a): return walk(a)
            case let .and(a, b), let .or(a, b), let .compare(a, _, b): return walk(a) + walk(b)
            }
        }
        return walk(root)
    }

    public func evaluate(_ lookup: (String) -> JSONValue?) -> Bool {
        Self.truthy(Self.eval(root, lookup))
    }

    static func eval(_ n: Node, _ lookup: (String) -> JSONValue?) -> JSONValue {
        switch n {
        case let .literal(v): return v
        case let .path(p): return lookup(p) ?? .null
        case let .not(a): return .bool(!truthy(eval(a, lookup)))
        case let .and(a, b): return .bool(truthy(eval(a, lookup)) && truthy(eval(b, lookup)))
        case let .or(a, b): return .bool(truthy(eval(a, lookup)) || truthy(eval(b, lookup)))
        case let .compare(a, op, b): return .bool(compare(eval(a, lookup), op, eval(b, lookup)))
        }
    }

    static func truthy(_ v: JSONValue) -> Bool {
        switch v {
        case .null: return false
        case let .bool(b): return b
        case let .int(i): return i != 0
        case let .double(d): return d != 0
        case let .string(s): return !["", "false", "0", "no"].contains(s.lowercased())
        case let .array(a): return !a.isEmpty
        case let .object(o): return !o.isEmpty
        }
    }

    static func compare(_ a: JSONValue, _ op: String, _ b: JSONValue) -> Bool {
        // Numbers compare as numbers (unless both are text that is not numeric), everything else as text.
        if let x = a.double, let y = b.double, !(a.isString && b.isString && (Double(a.string!) == nil || Double(b.string!) == nil)) {
            return ordered(x, op, y)
        }
        return ordered(a.isNull ? "" : (a.string ?? a.jsonText), op, b.isNull ? "" : (b.string ?? b.jsonText))
    }

    static func ordered<T: Comparable>(_ x: T, _ op: String, _ y: T) -> Bool {
        switch op {
        case "==": return x == y
        case "!=": return x != y
        case "<": return x < y
        case "<=": return x <= y
        case ">": return x > y
        default: return x >= y
        }
    }

    // MARK: - Tokens and parser

    struct Token: Equatable {
        enum Kind: Equatable { case op, string, number, word, lparen, rparen }
        var kind: Kind
        var text: String
        var offset: Int
    }

    static func tokenize(_ s: String) throws -> [Token] {
        let chars = Array(s)
        var tokens: [Token] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { i += 1; continue }
            if c == "(" { tokens.append(.init(kind: .lparen, text: "(", offset: i)); i += 1; continue }
            if c == ")" { tokens.append(.init(kind: .rparen, text: ")", offset: i)); i += 1; continue }
            if c == "'" || c == "\"" {
                var j = i + 1
                var text = ""
                while j < chars.count, chars[j] != c { text.append(chars[j]); j += 1 }
                guard j < chars.count else { throw SyntaxError(message: "unclosed string in condition", offset: i) }
                tokens.append(.init(kind: .string, text: text, offset: i))
                i = j + 1
                continue
            }
            let two = i + 1 < chars.count ? String(chars[i...i + 1]) : String(c)
            if ["==", "!=", "<=", ">=", "&&", "||"].contains(two) { tokens.append(.init(kind: .op, text: two, offset: i)); i += 2; continue }
            if ["<", ">", "!"].contains(String(c)) { tokens.append(.init(kind: .op, text: String(c), offset: i)); i += 1; continue }
            if c == "$", i + 1 < chars.count, chars[i + 1] == "{" {
                guard let close = chars[i...].firstIndex(of: "}") else { throw SyntaxError(message: "unclosed ${ in condition", offset: i) }
                tokens.append(.init(kind: .word, text: String(chars[(i + 2)..<close]), offset: i))
                i = close + 1
                continue
            }
            if c.isNumber || (c == "-" && i + 1 < chars.count && chars[i + 1].isNumber) {
                var j = i + 1
                while j < chars.count, chars[j].isNumber || chars[j] == "." { j += 1 }
                tokens.append(.init(kind: .number, text: String(chars[i..<j]), offset: i))
                i = j
                continue
            }
            if c.isLetter || c == "_" {
                var j = i + 1
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || "_.-".contains(chars[j]) { j += 1 }
                tokens.append(.init(kind: .word, text: String(chars[i..<j]), offset: i))
                i = j
                continue
            }
            throw SyntaxError(message: "unexpected character '\(c)' in condition", offset: i)
        }
        return tokens
    }

    struct Parser {
        var tokens: [Token]
        var index = 0
        var depth = 0
        var operands = 0

        var peek: Token? { index < tokens.count ? tokens[index] : nil }

        mutating func next() -> Token? {
            defer { index += 1 }
            return peek
        }

        mutating func expression() throws -> Node {
            var left = try conjunction()
            while peek?.text == "||", peek?.kind == .op { index += 1; left = .or(left, try conjunction()) }
            return left
        }

        mutating func conjunction() throws -> Node {
            var left = try negation()
            while peek?.text == "&&", peek?.kind == .op { index += 1; left = .and(left, try negation()) }
            return left
        }

        mutating func negation() throws -> Node {
            if let bang = peek, bang.text == "!", bang.kind == .op {
                index += 1
                try enter(bang)
                defer { depth -= 1 }
                return .not(try negation())
            }
            return try comparison()
        }

        mutating func enter(_ token: Token) throws {
            depth += 1
            if depth > Condition.maxDepth {
                throw SyntaxError(message: "condition nests parentheses or '!' deeper than \(Condition.maxDepth) levels", offset: token.offset)
            }
        }

        mutating func comparison() throws -> Node {
            let left = try operand()
            if let op = peek, op.kind == .op, ["==", "!=", "<", "<=", ">", ">="].contains(op.text) {
                index += 1
                return .compare(left, op.text, try operand())
            }
            return left
        }

        mutating func operand() throws -> Node {
            guard let t = next() else { throw SyntaxError(message: "condition ends too early", offset: 0) }
            operands += 1
            if operands > Condition.maxOperands {
                throw SyntaxError(message: "condition has more than \(Condition.maxOperands) operands; split it into steps", offset: t.offset)
            }
            switch t.kind {
            case .lparen:
                try enter(t)
                defer { depth -= 1 }
                let inner = try expression()
                guard next()?.kind == .rparen else { throw SyntaxError(message: "missing ')' in condition", offset: t.offset) }
                return inner
            case .string: return .literal(.string(t.text))
            // Int(text) first: Int(Double) traps beyond Int's range (a 30-digit number in a condition).
            case .number: return .literal(Int(t.text).map(JSONValue.int) ?? Double(t.text).flatMap { $0.isFinite ? JSONValue.double($0) : nil } ?? .string(t.text))
            case .word:
                switch t.text {
                case "true": return .literal(.bool(true))
                case "false": return .literal(.bool(false))
                case "null": return .literal(.null)
                default: return .path(t.text)
                }
            default: throw SyntaxError(message: "unexpected '\(t.text)' in condition", offset: t.offset)
            }
        }
    }
}

extension JSONValue {
    var isString: Bool { if case .string = self { return true } else { return false } }
}
