import Foundation

/// Checks the environment variables a deploy needs against declared rules, never printing a value.
public struct EnvValidate: StepKind {
    public static let name = "env.validate"
    public static let summary = "Validate environment variables (required, pattern, length, placeholder, URL, integer range, base64 key) without printing values"
    public static let parameters: [ParameterSpec] = [
        .init("rules", .map, required: true, """
            per variable: { required: true, pattern: "^app_", min_length: 16, not_placeholder: true, url: true, \
            scheme: postgresql, int_min: 1, int_max: 65535, base64_bytes: 32, equals: production, one_of: [a, b] }
            """),
    ]
    public static let mutates = false
    public static let example = """
        - id: environment
          kind: env.validate
          with:
            rules:
              HOME: { required: true, min_length: 2 }
              NODE_ENV: { one_of: [development, production, test] }
        """

    /// Values that mean "nobody filled this in".
    static let placeholders = ["changeme", "change-me", "change_me", "xxx", "todo", "replace-me", "placeholder", "example",
                               "secret", "password", "test", "dummy", "your-", "your_", "<", "${", "sk_test_xxx"]

    let rules: [(name: String, rule: [String: JSONValue])]

    public init(_ p: StepParameters) throws {
        rules = try p.map("rules").sorted { $0.key < $1.key }.map { name, value in
            guard let rule = value.object else {
                throw StepError("step '\(p.stepID)': rules.\(name) must be a mapping like { required: true, pattern: \"^app_\" }")
            }
            return (name, rule)
        }
    }

    /// Every problem with one variable; the value itself never appears in a message.
    static func problems(_ value: String?, _ rule: [String: JSONValue]) -> [String] {
        let required = rule["required"]?.bool ?? false
        guard let value, !value.isEmpty else { return required ? ["is not set"] : [] }
        var out: [String] = []
        if let pattern = rule["pattern"]?.string, value.range(of: pattern, options: .regularExpression) == nil {
            out.append("does not match /\(pattern)/")
        }
        if let min = rule["min_length"]?.int, value.count < min { out.append("is shorter than \(min) characters (\(value.count))") }
        if rule["not_placeholder"]?.bool ?? false {
            let lower = value.lowercased()
            if placeholders.contains(where: { p in lower == p || (p.count >= 4 && lower.hasPrefix(p)) || lower.hasPrefix("your-") || lower.hasPrefix("<") })
                || Set(lower).count <= 2 {
                out.append("looks like a placeholder")
            }
        }
        if rule["url"]?.bool ?? false || rule["scheme"] != nil {
            let c = URLComponents(string: value)
            if c?.scheme == nil || (c?.host == nil && !(c?.query ?? "").contains("host=")) { out.append("is not a well-formed URL") }
            if let schemes = rule["scheme"].map({ $0.array?.compactMap(\.string) ?? [$0.string ?? ""] }),
               let s = c?.scheme, !schemes.contains(s) {
                out.append("has scheme \(s), expected \(schemes.joined(separator: " or "))")
            }
        }
        if rule["int_min"] != nil || rule["int_max"] != nil {
            if let n = Int(value) {
                if let min = rule["int_min"]?.int, n < min { out.append("is below \(min)") }
                if let max = rule["int_max"]?.int, n > max { out.append("is above \(max)") }
            } else {
                out.append("is not an integer")
            }
        }
        if let bytes = rule["base64_bytes"]?.int {
            if let data = Data(base64Encoded: value) {
                if data.count != bytes { out.append("decodes to \(data.count) bytes, expected \(bytes)") }
            } else {
                out.append("is not valid base64")
            }
        }
        if let expected = rule["equals"]?.string, value != expected { out.append("is not '\(expected)'") }
        if let options = rule["one_of"]?.array?.compactMap(\.string), !options.contains(value) {
            out.append("is not one of \(options.joined(separator: ", "))")
        }
        return out
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        var failing: [String] = []
        var details: [String: JSONValue] = [:]
        for (name, rule) in rules {
            let problems = Self.problems(context.environment[name], rule)
            details[name] = problems.isEmpty ? "ok" : .string(problems.joined(separator: "; "))
            if !problems.isEmpty { failing.append("\(name) \(problems.joined(separator: ", "))") }
        }
        let metric = Metric(name: "invalid_variables", value: Double(failing.count), unit: "count", crit: 1, min: 0)
        if failing.isEmpty { return .ok("\(rules.count) variable(s) valid", details: details, metrics: [metric]) }
        return .init(.fail, failing.joined(separator: "; "), details: details, metrics: [metric])
    }
}
