import Checks
import Foundation
import Support

/// The values `${...}` can see while a run is in progress.
public struct Scope: Sendable {
    public var params: [String: JSONValue]
    public var env: [String: String]
    /// Finished steps: status, message, details.
    public var steps: [String: StepResult]
    public var item: JSONValue?
    /// The environment's settings from opsctl.yaml (`config.base_url`, `config.thresholds.x`).
    public var config: JSONValue
    /// `run.id`: the current run (unique names for synthetic test data).
    public var runID: String = ""

    public init(params: [String: JSONValue] = [:], env: [String: String] = [:], steps: [String: StepResult] = [:],
                item: JSONValue? = nil, config: JSONValue = .object([:])) {
        self.params = params
        self.env = env
        self.steps = steps
        self.item = item
        self.config = config
    }

    /// Looks up `params.x`, `env.X`, `steps.id.status|message|details.path`, `item`, `item.field`.
    public func lookup(_ path: String) -> JSONValue? {
        let parts = path.split(separator: ".", maxSplits: 2).map(String.init)
        guard let head = parts.first else { return nil }
        switch head {
        case "params":
            guard parts.count >= 2 else { return .object(params) }
            let rest = path.dropFirst("params.".count)
            let (name, tail) = splitFirst(String(rest))
            guard let value = params[name] else { return nil }
            return tail.isEmpty ? value : value.at(path: tail)
        case "env":
            guard parts.count >= 2 else { return nil }
            let name = String(path.dropFirst("env.".count))
            return env[name].map(JSONValue.string)
        case "secret":
            // `${secret.X}` is `${env.X}` whose value is masked everywhere from the moment it is read,
            // whatever the variable is called (a header token in WHOP_APP_ID is still a credential).
            guard parts.count >= 2, let value = env[String(path.dropFirst("secret.".count))] else { return nil }
            SecretMasker.shared.register(value)
            return .string(value)
        case "steps":
            guard parts.count >= 3, let result = steps[parts[1]] else { return nil }
            let field = parts[2]
            switch field {
            case "status": return .string(result.status.rawValue)
            case "message": return .string(result.message)
            case "attempts": return .int(result.attempts)
            case "duration_ms": return .double(result.durationMs)
            default:
                if field == "details" { return .object(result.details) }
                if field.hasPrefix("details.") { return JSONValue.object(result.details).at(path: String(field.dropFirst("details.".count))) }
                if field.hasPrefix("metrics.") {
                    let name = String(field.dropFirst("metrics.".count))
                    return result.metrics.first { $0.name == name }.map { .double($0.value) }
                }
                return nil
            }
        case "run":
            return path == "run.id" ? .string(runID) : nil
        case "window":
            // sql.query binds each window's bounds itself (current and baseline): the reference stays a marker.
            return path == "window.start" || path == "window.end" ? .string("${\(path)}") : nil
        case "config":
            return parts.count == 1 ? config : config.at(path: String(path.dropFirst("config.".count)))
        case "item":
            guard let item else { return nil }
            return parts.count == 1 ? item : item.at(path: String(path.dropFirst("item.".count)))
        default:
            return nil
        }
    }

    private func splitFirst(_ s: String) -> (String, String) {
        guard let dot = s.firstIndex(of: ".") else { return (s, "") }
        return (String(s[..<dot]), String(s[s.index(after: dot)...]))
    }
}

/// `${path}` and `${path:-default}` substitution in parameter values.
public enum Interpolation {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// One `${path}` or `${path:-default}` as written.
    public struct Reference: Sendable, Equatable {
        public var path: String
        public var hasDefault: Bool
    }

    /// All `${...}` references in a value (for load-time checks).
    public static func references(in value: JSONValue) -> [String] {
        referenceList(in: value).map(\.path)
    }

    public static func references(in text: String) -> [String] {
        referenceList(in: text).map(\.path)
    }

    /// The references in every string of a value, with whether each has a `:-default`.
    public static func referenceList(in value: JSONValue) -> [Reference] {
        switch value {
        case let .string(s): return referenceList(in: s)
        case let .array(a): return a.flatMap { referenceList(in: $0) }
        case let .object(o): return o.values.flatMap { referenceList(in: $0) }
        default: return []
        }
    }

    public static func referenceList(in text: String) -> [Reference] {
        var out: [Reference] = []
        var rest = Substring(text)
        while let start = openingIndex(in: rest) {
            let innerStart = rest.utf8.index(start, offsetBy: 2)
            guard let end = rest[innerStart...].firstIndex(of: "}") else { break }
            let (path, fallback) = splitDefault(rest[innerStart..<end])
            out.append(Reference(path: trimmed(path), hasDefault: fallback != nil))
            rest = rest[rest.index(after: end)...]
        }
        return out
    }

    // Scanning is done on UTF-8 here: Foundation's range(of:), components(separatedBy:) and
    // trimmingCharacters(in:) go through NSString on Linux and were most of loading a runbook's
    // string time (every step's `with:` is scanned for references at load).

    /// Where the first `${` of `text` starts.
    static func openingIndex(in text: Substring) -> String.Index? {
        let utf8 = text.utf8
        var i = utf8.startIndex
        while let dollar = utf8[i...].firstIndex(of: UInt8(ascii: "$")) {
            let next = utf8.index(after: dollar)
            if next == utf8.endIndex { return nil }
            if utf8[next] == UInt8(ascii: "{") { return dollar }
            i = next
        }
        return nil
    }

    /// Whether `text` holds a `${`.
    static func hasReference(_ text: String) -> Bool {
        openingIndex(in: Substring(text)) != nil
    }

    /// `path:-default` → (path, default); nil default when there is no `:-` (the first one splits).
    static func splitDefault(_ inner: Substring) -> (path: Substring, fallback: Substring?) {
        let utf8 = inner.utf8
        var i = utf8.startIndex
        while let colon = utf8[i...].firstIndex(of: UInt8(ascii: ":")) {
            let next = utf8.index(after: colon)
            if next == utf8.endIndex { break }
            if utf8[next] == UInt8(ascii: "-") { return (inner[..<colon], inner[utf8.index(after: next)...]) }
            i = next
        }
        return (inner, nil)
    }

    /// `text` without leading and trailing tabs and Unicode space separators (CharacterSet.whitespaces).
    static func trimmed(_ text: Substring) -> String {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "\t" || scalar == " " || (scalar.value > 0x7F && scalar.properties.generalCategory == .spaceSeparator)
        }
        let scalars = text.unicodeScalars
        var lower = scalars.startIndex
        var upper = scalars.endIndex
        while lower < upper, isSpace(scalars[lower]) { lower = scalars.index(after: lower) }
        while upper > lower, isSpace(scalars[scalars.index(before: upper)]) { upper = scalars.index(before: upper) }
        return String(text[lower..<upper])
    }

    public static func resolve(_ value: JSONValue, in scope: Scope) throws -> JSONValue {
        switch value {
        case let .string(s): return try resolve(s, in: scope)
        case let .array(a): return .array(try a.map { try resolve($0, in: scope) })
        case let .object(o): return .object(try o.mapValues { try resolve($0, in: scope) })
        default: return value
        }
    }

    /// A string that is exactly one `${...}` keeps the referenced value's type (list, number, ...).
    public static func resolve(_ text: String, in scope: Scope) throws -> JSONValue {
        guard hasReference(text) else { return .string(text) }
        if text.hasPrefix("${"), text.hasSuffix("}"), text.dropFirst(2).firstIndex(of: "}") == text.index(before: text.endIndex) {
            return try value(of: String(text.dropFirst(2).dropLast()), in: scope)
        }
        var out = ""
        var rest = Substring(text)
        while let start = openingIndex(in: rest) {
            out += rest[..<start]
            let innerStart = rest.utf8.index(start, offsetBy: 2)
            guard let end = rest[innerStart...].firstIndex(of: "}") else {
                throw Failure(description: "unclosed ${ in '\(text)'")
            }
            let v = try value(of: String(rest[innerStart..<end]), in: scope)
            out += v.string ?? v.jsonText
            rest = rest[rest.index(after: end)...]
        }
        return .string(out + rest)
    }

    static func value(of expression: String, in scope: Scope) throws -> JSONValue {
        let (written, fallback) = splitDefault(Substring(expression))
        let path = trimmed(written)
        if let v = scope.lookup(path), !v.isNull { return v }
        if let fallback { return .string(String(fallback)) }
        if path.hasPrefix("env.") || path.hasPrefix("secret.") {
            let name = path.drop { $0 != "." }.dropFirst()
            throw Failure(description: "environment variable \(name) is not set (use ${\(path):-default} for a fallback)")
        }
        if path.hasPrefix("steps.") { throw Failure(description: "${\(path)} has no value: did that step run and produce it?") }
        throw Failure(description: "${\(path)} has no value")
    }
}
