import Checks
import Foundation
import Support

/// Typed readers for YAML values in opsctl.yaml and runbooks. A wrong value is an error at its
/// file:line:col (exit 65), never a silent default: `protected: enabled` used to read as false.
struct StrictValues {
    let file: String

    func fail(_ node: YAMLValue, _ message: String, _ hint: String? = nil) -> LoadError {
        LoadError(file: file, line: node.position.line, column: node.position.column, message: message, hint: hint)
    }

    /// How a value reads in a message: `'enabled'`, `a list`.
    static func shown(_ node: YAMLValue) -> String {
        guard let s = node.string else { return node.kindName }
        return "'\(s.count > 60 ? String(s.prefix(60)) + "…" : s)'"
    }

    /// Only an unquoted `true` or `false` (YAML 1.2): `yes`, `on`, `1`, `"true"` and `enabled` are errors.
    func bool(_ node: YAMLValue, _ what: String) throws -> Bool {
        if case let .scalar(s, tag, _) = node, tag == nil, case let .bool(b) = YAMLValue.resolve(s) { return b }
        throw fail(node, "'\(what)' must be true or false, got \(Self.shown(node))",
                   "write \(what.split(separator: ".").last.map(String.init) ?? what): true or false, unquoted")
    }

    /// A scalar as text (`database_url_env: DATABASE_URL`); lists, mappings and nothing are errors.
    func text(_ node: YAMLValue, _ what: String) throws -> String {
        guard let s = node.string else { throw fail(node, "'\(what)' must be text, got \(node.kindName)") }
        return s
    }

    func textList(_ node: YAMLValue, _ what: String) throws -> [String] {
        guard case let .sequence(items, _) = node else {
            throw fail(node, "'\(what)' must be a list like [A, B], got \(Self.shown(node))")
        }
        return try items.map { try text($0, what) }
    }

    func textMap(_ node: YAMLValue, _ what: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for pair in try mapping(node, what) { out[pair.key] = try text(pair.value, "\(what).\(pair.key)") }
        return out
    }

    func mapping(_ node: YAMLValue, _ what: String, keys allowed: [String]? = nil) throws
        -> [(key: String, keyPosition: YAMLValue.Position, value: YAMLValue)] {
        guard case let .mapping(pairs, _) = node else { throw fail(node, "'\(what)' must be a mapping, got \(Self.shown(node))") }
        if let allowed {
            for pair in pairs where !allowed.contains(pair.key) {
                throw LoadError(file: file, line: pair.keyPosition.line, column: pair.keyPosition.column,
                                message: "unknown key '\(pair.key)' in '\(what)'\(closest(to: pair.key, in: allowed).map { ", did you mean '\($0)'?" } ?? "")",
                                hint: "keys: \(allowed.joined(separator: ", "))")
            }
        }
        return pairs
    }

    /// One of a fixed set of words (`scheme: whop`).
    func oneOf(_ node: YAMLValue, _ what: String, _ choices: [String]) throws -> String {
        guard let s = node.string, choices.contains(s) else {
            throw fail(node, "'\(what)' must be one of \(choices.joined(separator: ", ")), got \(Self.shown(node))")
        }
        return s
    }

    /// A whole number in `range`; `99999999999999999999` and `1e19` are errors here, not a trap later.
    func int(_ node: YAMLValue, _ what: String, in range: ClosedRange<Int>) throws -> Int {
        guard case .scalar(let s, nil, _) = node, let value = YAMLValue.resolve(s).int, range.contains(value) else {
            throw fail(node, "'\(what)' must be a whole number from \(range.lowerBound) to \(range.upperBound), got \(Self.shown(node))")
        }
        return value
    }

    /// A plain number (not quoted text) in `range`.
    func number(_ node: YAMLValue, _ what: String, in range: ClosedRange<Double>) throws -> Double {
        guard case .scalar(let s, nil, _) = node, let value = YAMLValue.resolve(s).double, range.contains(value) else {
            throw fail(node, "'\(what)' must be a number from \(Self.plain(range.lowerBound)) to \(Self.plain(range.upperBound)), got \(Self.shown(node))")
        }
        return value
    }

    func duration(_ node: YAMLValue, _ what: String) throws -> Double {
        guard let s = node.string else { throw fail(node, "'\(what)' must be \(DurationText.expected), got \(node.kindName)") }
        if let problem = DurationText.problem(s) {
            let why = problem.hasSuffix(DurationText.expected) ? "got \(Self.shown(node))" : problem
            throw fail(node, "'\(what)' must be \(DurationText.expected): \(why)")
        }
        return DurationText.seconds(s) ?? 0
    }

    static func plain(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d) }
}
