import ArgumentParser
import Checks
import Runbooks

extension Opsctl {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run a runbook (a shipped name such as 'daily', or a YAML file).",
            discussion: """
                Examples:
                  opsctl run weekly --format json
                  opsctl run runbooks/daily.yaml --format prometheus --output /var/lib/node_exporter/opsctl.prom
                  opsctl run migrate --env production --confirm production
                  opsctl run verify --resume 20261124-031502-9f3c
                """)

        @Argument(help: "Runbook name or path to a YAML file.")
        var runbook: String

        @Option(name: .customLong("param"), help: "Runbook parameter as key=value (repeatable).")
        var params: [String] = []

        @Option(name: .long, help: "Run only these step ids (comma-separated); their needs count as met.")
        var only: String?

        @Option(name: .long, help: "Run only this step (same as --only ID).")
        var step: String?

        @Option(name: .long, help: "Start at this step and run every later one.")
        var from: String?

        @Option(name: .long, help: "Re-run a journaled run from its first step that did not end ok.")
        var resume: String?

        @OptionGroup var global: GlobalOptions

        func validate() throws { _ = try ParamParser.parse(params) }

        func run() throws {
            var selected: Set<String>?
            if let only { selected = Set(only.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }) }
            if let step { selected = (selected ?? []).union([step]) }
            try RunService(global: global).run(runbook, params: try ParamParser.parse(params), only: selected, from: from, resume: resume)
        }
    }
}

enum ParamParser {
    static func parse(_ pairs: [String]) throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for pair in pairs {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw ValidationError("--param '\(pair)' must be key=value")
            }
            out[String(pair[..<eq])] = .string(String(pair[pair.index(after: eq)...]))
        }
        return out
    }
}
