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
            var references = Interpolation.referenceList(in: .object(step.with)) + Interpolation.referenceList(in: step.title)
            if let remediation = step.remediation { references += Interpolation.referenceList(in: remediation) }
            for path in references.filter({ $0.path.hasPrefix("config.") && !$0.hasDefault }).map(\.path) {
                let key = String(path.dropFirst("config.".count))
                let missing = environments.filter { $0.json.at(path: key) == nil || $0.json.at(path: key) == .null }
                guard !missing.isEmpty else { continue }
                throw LoadError(file: runbook.file, line: step.line, column: step.column,
                                message: "step '\(step.id)' uses ${\(path)}, which environment\(missing.count > 1 ? "s" : "") \(missing.map { "'\($0.name)'" }.joined(separator: ", ")) of opsctl.yaml do\(missing.count > 1 ? "" : "es") not set",
                                hint: "set it under environments.<name> in opsctl.yaml, or write ${\(path):-DEFAULT}")
            }
        }
    }
}
