import ArgumentParser
import Checks
import Foundation
import Support

/// `--header 'Authorization: Bearer $PARTNER_API_KEY'` and `--header-warn 'X-RateLimit-Remaining<100'`
/// turned into the `headers` / `header_limits` params of an http.request step.
///
/// Header values name variables (`$X`, `${X}`) instead of holding tokens, so a token never lands in
/// shell history or `ps`; opsctl expands them itself (single quotes keep the shell out) and masks
/// every value it expands, whatever the variable is called.
enum HeaderFlags {
    static func validate(_ headers: [String], warn: [String], crit: [String]) throws {
        for header in headers {
            guard let colon = header.firstIndex(of: ":"), !header[..<colon].trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("--header '\(SecretMasker.shared.mask(header))' must be 'Name: value', e.g. --header 'Authorization: Bearer $API_KEY'")
            }
            for name in variables(in: String(header[header.index(after: colon)...]))
            where ProcessInfo.processInfo.environment[name] == nil {
                throw ValidationError("--header '\(header[..<colon])' uses $\(name), which is not set")
            }
        }
        for (flag, list) in [("--header-warn", warn), ("--header-crit", crit)] {
            for limit in list where parse(limit) == nil {
                throw ValidationError("\(flag) '\(limit)' must be NAME<NUMBER (smaller is worse) or NAME>NUMBER, e.g. \(flag) 'X-RateLimit-Remaining<100'")
            }
        }
    }

    /// The `headers` param, with variables expanded and their values registered as secrets.
    static func headers(_ flags: [String]) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for header in flags {
            guard let colon = header.firstIndex(of: ":") else { continue }
            let name = header[..<colon].trimmingCharacters(in: .whitespaces)
            out[name] = .string(expand(header[header.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return out
    }

    /// The `header_limits` param: `{ NAME: { warn_below: N, crit_below: M } }`.
    static func limits(warn: [String], crit: [String]) -> [String: JSONValue] {
        var out: [String: [String: JSONValue]] = [:]
        for (level, list) in [("warn", warn), ("crit", crit)] {
            for limit in list {
                guard let (name, below, value) = parse(limit) else { continue }
                out[name, default: [:]][below ? level + "_below" : level] = .double(value)
            }
        }
        return out.mapValues(JSONValue.object)
    }

    /// `X-RateLimit-Remaining<100` → (name, smaller is worse, 100). `<=`/`>=` read the same: a limit fires on reaching it.
    static func parse(_ text: String) -> (String, Bool, Double)? {
        guard let at = text.firstIndex(where: { $0 == "<" || $0 == ">" }) else { return nil }
        let name = text[..<at].trimmingCharacters(in: .whitespaces)
        var rest = text[text.index(after: at)...]
        if rest.first == "=" { rest = rest.dropFirst() }
        guard !name.isEmpty, let value = Double(rest.trimmingCharacters(in: .whitespaces)) else { return nil }
        return (name, text[at] == "<", value)
    }

    static func variables(in value: String) -> [String] {
        matches(in: value).map(\.name)
    }

    private static let pattern = try! NSRegularExpression(pattern: #"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))"#)

    private static func matches(in value: String) -> [(range: Range<String.Index>, name: String)] {
        pattern.matches(in: value, range: NSRange(value.startIndex..., in: value)).compactMap { match in
            guard let range = Range(match.range, in: value) else { return nil }
            let group = match.range(at: 1).location != NSNotFound ? 1 : 2
            guard let nameRange = Range(match.range(at: group), in: value) else { return nil }
            return (range, String(value[nameRange]))
        }
    }

    private static func expand(_ value: String) -> String {
        var out = value
        for (range, name) in matches(in: value).reversed() {
            let secret = ProcessInfo.processInfo.environment[name] ?? ""
            SecretMasker.shared.register(secret)
            out.replaceSubrange(range, with: secret)
        }
        if out != value { SecretMasker.shared.register(out) }
        return out
    }
}
