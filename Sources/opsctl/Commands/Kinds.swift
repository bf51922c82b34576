import ArgumentParser
import Checks

extension Opsctl {
    struct Kinds: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kinds",
            abstract: "List the step kinds runbooks can use, or document one (parameters and an example).")

        @Argument(help: "A kind to document.")
        var name: String?

        func run() throws {
            guard let name else {
                let width = (StepRegistry.names.map(\.count).max() ?? 10) + 2
                for kind in StepRegistry.all {
                    print(kind.name.padding(toLength: width, withPad: " ", startingAt: 0) + (kind.mutates ? "[mutates] " : "") + kind.summary)
                }
                for kind in StepRegistry.engineKinds {
                    print(kind.name.padding(toLength: width, withPad: " ", startingAt: 0) + kind.summary)
                }
                return
            }
            guard let kind = StepRegistry.kind(named: name) else {
                if let engine = StepRegistry.engineKinds.first(where: { $0.name == name }) {
                    print("\(engine.name): \(engine.summary)\n\nwith:\n  runbook: NAME or FILE\n  params: { key: value }")
                    return
                }
                Terminal.error("unknown kind '\(name)'\(StepRegistry.suggestion(for: name)); 'opsctl kinds' lists them")
                throw ExitCode(64)
            }
            print("\(kind.name)\(kind.mutates ? " (mutates)" : ""): \(kind.summary)\n\nparameters:")
            for p in kind.parameters {
                let def = p.defaultValue.map { " (default \($0.string ?? $0.jsonText))" } ?? (p.required ? " (required)" : "")
                print("  \(p.name): \(p.type.rawValue)\(def)\n      \(p.doc)")
            }
            print("\nexample:\n" + kind.example.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"))
        }
    }
}
