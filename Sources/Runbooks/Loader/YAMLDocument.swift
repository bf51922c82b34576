import Foundation
import Yams
import Checks

/// A YAML node with its source position, so every later error can name file:line:col.
public indirect enum YAMLValue: Sendable {
    case scalar(String, tag: String?, Position)
    case sequence([YAMLValue], Position)
    case mapping([(key: String, keyPosition: Position, value: YAMLValue)], Position)
    case null(Position)

    public struct Position: Sendable {
        public var line: Int
        public var column: Int
    }

    public var position: Position {
        switch self {
        case let .scalar(_, _, p), let .sequence(_, p), let .mapping(_, p), let .null(p): return p
        }
    }

    public var kindName: String {
        switch self {
        case .scalar: return "a scalar"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .null: return "nothing"
        }
    }

    public var string: String? {
        if case let .scalar(s, _, _) = self { return s }
        return nil
    }

    public func value(_ key: String) -> YAMLValue? {
        guard case let .mapping(pairs, _) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    /// Converts to JSON-shaped data following YAML 1.2 core schema resolution for plain scalars.
    public var json: JSONValue {
        switch self {
        case .null: return .null
        case let .scalar(s, tag, _):
            if tag == "str" { return .string(s) }
            return Self.resolve(s)
        case let .sequence(items, _): return .array(items.map(\.json))
        case let .mapping(pairs, _):
            var o: [String: JSONValue] = [:]
            for p in pairs { o[p.key] = p.value.json }
            return .object(o)
        }
    }

    static func resolve(_ s: String) -> JSONValue {
        switch s {
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case "null", "Null", "NULL", "~", "": return .null
        default:
            if let i = Int(s) { return .int(i) }
            if s.first.map({ $0.isNumber || $0 == "-" || $0 == "." }) == true, let d = Double(s), d.isFinite { return .double(d) }
            return .string(s)
        }
    }
}

/// Parses YAML text into positioned values (Yams/libyaml), turning every parser error into a LoadError.
public enum YAMLDocument {
    /// Limits that keep hostile documents (alias bombs, huge nesting) from exhausting memory.
    static let maxNodes = 200_000
    static let maxDepth = 64

    public static func parse(_ text: String, file: String) throws -> YAMLValue {
        if let value = ParsedDocuments.shared.value(file: file, text: text) { return value }
        let value = try compose(text, file: file)
        ParsedDocuments.shared.store(value, file: file, text: text)
        return value
    }

    private static func compose(_ text: String, file: String) throws -> YAMLValue {
        let node: Node?
        do {
            // The basic resolver: plain scalars are typed by `YAMLValue.resolve` (YAML 1.2 core schema),
            // so Yams' default resolver — regular expressions compiled at every start — is not needed.
            node = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            throw loadError(error, file: file)
        } catch {
            throw LoadError(file: file, message: "not valid YAML: \(error)")
        }
        guard let node else { return .null(.init(line: 1, column: 1)) }
        var budget = maxNodes
        return try convert(node, file: file, depth: 0, budget: &budget)
    }

    private static func convert(_ node: Node, file: String, depth: Int, budget: inout Int) throws -> YAMLValue {
        let position = YAMLValue.Position(line: (node.mark?.line ?? 0), column: (node.mark?.column ?? 0))
        budget -= 1
        if budget < 0 {
            throw LoadError(file: file, line: position.line, column: position.column,
                            message: "document too large (more than \(maxNodes) nodes after expanding aliases)",
                            hint: "remove repeated aliases; runbooks are small files")
        }
        if depth > maxDepth {
            throw LoadError(file: file, line: position.line, column: position.column, message: "nesting deeper than \(maxDepth) levels")
        }
        switch node {
        case let .scalar(scalar):
            if scalar.style == .plain, ["null", "Null", "NULL", "~", ""].contains(scalar.string) { return .null(position) }
            // The tag as written (`!!str 123`), not as resolved: every plain scalar resolves to str here.
            let quoted = scalar.style != .plain || scalar.tag.description == "tag:yaml.org,2002:str"
            return .scalar(scalar.string, tag: quoted ? "str" : nil, position)
        case let .sequence(sequence):
            return .sequence(try sequence.map { try convert($0, file: file, depth: depth + 1, budget: &budget) }, position)
        case let .mapping(mapping):
            var pairs: [(key: String, keyPosition: YAMLValue.Position, value: YAMLValue)] = []
            for (key, value) in mapping {
                let keyPosition = YAMLValue.Position(line: key.mark?.line ?? 0, column: key.mark?.column ?? 0)
                guard let keyText = key.scalar?.string else {
                    throw LoadError(file: file, line: keyPosition.line, column: keyPosition.column, message: "mapping keys must be plain text")
                }
                if pairs.contains(where: { $0.key == keyText }) {
                    throw LoadError(file: file, line: keyPosition.line, column: keyPosition.column, message: "duplicate key '\(keyText)'")
                }
                pairs.append((keyText, keyPosition, try convert(value, file: file, depth: depth + 1, budget: &budget)))
            }
            return .mapping(pairs, position)
        case let .alias(alias):
            throw LoadError(file: file, line: alias.mark?.line ?? 0, column: alias.mark?.column ?? 0, message: "unresolved alias")
        }
    }

    private static func loadError(_ error: YamlError, file: String) -> LoadError {
        switch error {
        case let .scanner(context, problem, mark, _):
            return LoadError(file: file, line: mark.line, column: mark.column,
                             message: "YAML syntax error: \(problem)\(context.map { " \($0.text)" } ?? "")",
                             hint: "check indentation and quoting near this line")
        case let .parser(context, problem, mark, _):
            return LoadError(file: file, line: mark.line, column: mark.column,
                             message: "YAML syntax error: \(problem)\(context.map { " \($0.text)" } ?? "")",
                             hint: "check indentation and quoting near this line")
        case let .composer(context, problem, mark, _):
            return LoadError(file: file, line: mark.line, column: mark.column,
                             message: "YAML error: \(problem)\(context.map { " \($0.text)" } ?? "")")
        case let .reader(problem, offset, value, _):
            return LoadError(file: file, message: "unreadable YAML (\(problem) at byte \(offset ?? 0), value \(value))",
                             hint: "the file must be UTF-8 text")
        default:
            return LoadError(file: file, message: "not valid YAML: \(error)")
        }
    }
}

/// Documents already parsed in this process, by file, with the text each was parsed from. One command
/// reads some files more than once (the shipped profile for the default mapping and again for each
/// environment; an included fragment for its params, then for its steps): the second read is a lookup.
/// Keyed by the text itself, so a file that changed between two reads is parsed again; nothing is kept
/// on disk. Only successful parses are kept: an invalid document throws its error every time.
final class ParsedDocuments: @unchecked Sendable {
    static let shared = ParsedDocuments()
    /// Enough for every file one command reads; a process that parses more (fuzzing) starts over.
    private static let capacity = 64
    private let lock = NSLock()
    private var documents: [String: (text: String, value: YAMLValue)] = [:]

    func value(file: String, text: String) -> YAMLValue? {
        lock.lock()
        defer { lock.unlock() }
        guard let entry = documents[file], entry.text == text else { return nil }
        return entry.value
    }

    func store(_ value: YAMLValue, file: String, text: String) {
        lock.lock()
        defer { lock.unlock() }
        if documents.count >= Self.capacity, documents[file] == nil { documents.removeAll(keepingCapacity: true) }
        documents[file] = (text, value)
    }
}
