import Checks
import Foundation

/// `${config.NAME}` without a `:-default` must have a value in every environment a runbook runs in:
/// `opsctl explain` checks each environment of opsctl.yaml at load time, so a threshold missing in
/// production is found before the step runs there.
public enum ConfigReferences {
    /// The first reference an environment cannot resolve, as a LoadError at the step's position.
    public static func check(_ runbook: Runbook, environments: [EnvironmentConfig]) throws {
        for step in runbook.steps {
            if let included = step.included?.runbook { try check(included, environments: environments) }
            var texts = strings(in: .object(step.with)) + [step.title]
            if let remediation = step.remediation { texts.append(remediation) }
            for path in texts.flatMap(required) {
                let key = String(path.dropFirst("config.".count))
                let missing = environments.filter { $0.json.at(path: key) == nil || $0.json.at(path: key) == .null }
                guard !missing.isEmpty else { continue }
                throw LoadError(file: runbook.file, line: step.line, column: step.column,
                                message: "step '\(step.id)' uses ${\(path)}, which environment\(missing.count > 1 ? "s" : "") \(missing.map { "'\($0.name)'" }.joined(separator: ", ")) of opsctl.yaml do\(missing.count > 1 ? "" : "es") not set",
                                hint: "set it under environments.<name> in opsctl.yaml, or write ${\(path):-DEFAULT}")
            }
        }
    }

    /// `config.x` paths of `${config.x}` references that have no `:-default`.
    static func required(in text: String) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { break }
            let inner = rest[start.upperBound..<end].trimmingCharacters(in: .whitespaces)
            if inner.hasPrefix("config."), !inner.contains(":-") { out.append(inner) }
            rest = rest[rest.index(after: end)...]
        }
        return out
    }

    static func strings(in value: JSONValue) -> [String] {
        switch value {
        case let .string(s): return [s]
        case let .array(a): return a.flatMap(strings)
        case let .object(o): return o.values.flatMap(strings)
        default: return []
        }
    }
}
