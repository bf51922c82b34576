import ArgumentParser
import Checks
import Foundation
import Runbooks
import Support

extension Opsctl {
    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "explain",
            abstract: "Print a runbook's plan: the step graph by levels, what mutates, what needs confirmation. Runs nothing.")

        @Argument(help: "Runbook name or path to a YAML file.")
        var runbook: String

        @Option(name: .customLong("param"), help: "Runbook parameter as key=value (repeatable).")
        var params: [String] = []

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let service = RunService(global: global)
            let (config, env) = try service.environment()
            let book = try service.load(runbook, params: try ParamParser.parse(params), config: config, env: env)
            // A ${config.X} that one environment lacks is found here, not when the step runs there.
            do {
                try ConfigReferences.check(book, environments: config.environments.keys.sorted().compactMap { config.environments[$0] })
            } catch let error as LoadError {
                Terminal.error(error.description)
                throw ExitCode(65)
            }
            print(TerminalText.sanitize(SecretMasker.shared.mask(Plan.describe(book, environment: env))))
        }
    }
}

/// The text of `opsctl explain`.
enum Plan {
    static func levels(_ runbook: Runbook) -> [[Step]] {
        var level: [String: Int] = [:]
        let byID = Dictionary(runbook.steps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        func depth(_ step: Step) -> Int {
            if let d = level[step.id] { return d }
            let d = step.needs.compactMap { byID[$0] }.map { depth($0) + 1 }.max() ?? 0
            level[step.id] = d
            return d
        }
        let regular = runbook.steps.filter { !$0.always }
        var out: [[Step]] = []
        for step in regular {
            let d = depth(step)
            while out.count <= d { out.append([]) }
            out[d].append(step)
        }
        let always = runbook.steps.filter(\.always)
        if !always.isEmpty { out.append(always) }
        return out
    }

    static func describe(_ runbook: Runbook, environment: EnvironmentConfig) -> String {
        var lines = ["runbook \(runbook.name) (\(runbook.file))"]
        if !runbook.description.isEmpty { lines.append("  \(runbook.description)") }
        lines.append("environment \(environment.name)\(environment.protected ? " (protected: mutating steps need --confirm \(environment.name))" : "")")
        if !runbook.params.isEmpty {
            lines.append("params:")
            for p in runbook.params {
                let def = p.defaultValue.map { " = \($0.string ?? $0.jsonText)" } ?? (p.required ? " (required)" : "")
                lines.append("  \(p.name): \(p.type.rawValue)\(def)\(p.description.isEmpty ? "" : "  — \(p.description)")")
            }
        }
        let regularLevels = levels(runbook)
        for (i, level) in regularLevels.enumerated() {
            let isAlways = level.first?.always == true
            lines.append(isAlways ? "always (cleanup, runs even after failures):" : "level \(i + 1)\(level.count > 1 ? " (in parallel)" : ""):")
            for step in level {
                var flags: [String] = []
                if step.mutates { flags.append("MUTATES") }
                if step.confirm || (step.mutates && environment.protected) { flags.append("needs confirmation") }
                if step.retry.attempts > 1 { flags.append("retry \(step.retry.attempts)x") }
                if let t = step.timeout { flags.append("timeout \(DurationText.format(milliseconds: t * 1000))") }
                if let w = step.when { flags.append("when \(w.source)") }
                if step.continueOnFailure { flags.append("continue on failure") }
                if step.ifNeedsSkipped == .run { flags.append("runs even if a need is skipped") }
                let needs = step.needs.isEmpty ? "" : " ← \(step.needs.joined(separator: ", "))"
                lines.append("  \(step.id) [\(step.kind)]\(needs)\(flags.isEmpty ? "" : "  {\(flags.joined(separator: ", "))}")")
                if let r = step.remediation { lines.append("      on failure: \(r)") }
            }
        }
        let mutating = runbook.mutatingSteps.map(\.id)
        lines.append(mutating.isEmpty ? "read-only: nothing is changed" : "changes: \(mutating.joined(separator: ", ")) (use --dry-run to see what they would do)")
        if !mutating.isEmpty {
            switch runbook.lock {
            case .runbook: lines.append("lock: one '\(runbook.name)' run at a time in \(environment.name)")
            case let .named(key): lines.append("lock: one run with key '\(key)' at a time in \(environment.name)")
            case .none: lines.append("lock: none (the steps coordinate concurrent runs themselves)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
