import ArgumentParser
import Checks
import Foundation
import Runbooks

extension Opsctl {
    struct Reconcile: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reconcile",
            abstract: "Check the service's data invariants, compare with the provider, repair what is safe (the shipped 'reconcile' runbook).",
            discussion: """
                The invariants are the service profile's (its service-invariants runbook; churn-saver: events unprocessed past the threshold, events with errors by type, open cases whose membership is valid again, recovered cases without a success event, actions after a case closed, duplicate provider event ids, cases nudged beyond the reminder schedule), each a step with a count and sample ids. --provider-url lists the provider's events and writes the ones the database lacks to a replay plan (--plan-file). --fix applies the safe repairs, one transaction per invariant (try --fix --dry-run first).

                'reconcile event ID' shows one event's timeline from the service.events mapping (state, error, replays, the tenant's events around it). Any other ENTITY runs the profile's explain-ENTITY runbook with param id (churn-saver: payment, case).

                Examples:
                  opsctl reconcile
                  opsctl reconcile --provider-url https://api.whop.com/v5/webhooks/events --plan-file missing.jsonl
                  opsctl reconcile --fix --dry-run
                  opsctl reconcile --fix --env production --confirm production
                  opsctl reconcile event evt_123
                  opsctl reconcile payment pay_123        # churn-saver's explain-payment
                  opsctl reconcile case case_456          # churn-saver's explain-case
                """)

        @Argument(help: "event, or an entity the profile explains (explain-ENTITY runbook, e.g. payment, case): explain one end to end.")
        var entity: String?

        @Argument(help: "The event id, or the id of the entity to explain.")
        var id: String?

        @Option(name: .long, help: "Provider event list API to compare with (paginated JSON); a path is relative to base_url.")
        var providerURL: String?

        @Option(name: .long, help: "Where the provider comparison writes the missing events (JSON lines).")
        var planFile: String = "missing-events.jsonl"

        @Option(name: .long, parsing: .unconditional, help: "Unprocessed events older than this many minutes warn.")
        var staleWarnMinutes: Int = 15

        @Option(name: .long, parsing: .unconditional, help: "Unprocessed events older than this many minutes are critical.")
        var staleCritMinutes: Int = 60

        @Flag(name: .long, help: "Apply the safe repairs (one transaction per invariant).")
        var fix = false

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            try FlagCheck.range(staleWarnMinutes, "--stale-warn-minutes", 0...527_040)
            try FlagCheck.range(staleCritMinutes, "--stale-crit-minutes", 0...527_040)
            if let entity {
                guard !entity.isEmpty, entity.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else { throw ValidationError("'\(entity)' is not an entity name (letters, digits, '-', '_')") }
                guard id != nil else { throw ValidationError("reconcile \(entity) needs an id") }
                if fix || providerURL != nil { throw ValidationError("--fix and --provider-url apply to the full reconcile, not to one \(entity)") }
            }
        }

        func run() throws {
            if let entity, let id, entity != "event" {
                // A service-specific explain is a runbook of the profile: explain-payment, explain-case.
                let service = RunService(global: global)
                let (config, env) = try service.environment()
                let library = service.library(config, env)
                guard (try? library.locate("explain-\(entity)")) != nil else {
                    let known = ["event"] + library.list().map(\.name).filter { $0.hasPrefix("explain-") }.map { String($0.dropFirst(8)) }
                    Terminal.error("reconcile: nothing explains '\(entity)' here: use \(known.map { "'reconcile \($0) <id>'" }.joined(separator: ", ")) (a profile adds one with an explain-\(entity) runbook)")
                    throw ExitCode(64)
                }
                try service.run("explain-\(entity)", params: ["id": .string(id)], verb: "reconcile \(entity)")
            }
            let plan = planFile.hasPrefix("/") ? planFile : FileManager.default.currentDirectoryPath + "/" + planFile
            var params: [String: JSONValue] = [
                "fix": .bool(fix), "plan_file": .string(plan),
                "stale_warn_minutes": .int(staleWarnMinutes), "stale_crit_minutes": .int(staleCritMinutes),
            ]
            if let providerURL { params["provider_url"] = .string(providerURL) }
            if let entity, let id { params["entity"] = .string(entity); params["id"] = .string(id) }
            try RunService(global: global).run("reconcile", params: params, verb: "reconcile")
        }
    }
}
