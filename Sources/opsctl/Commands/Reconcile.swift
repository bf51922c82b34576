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
                Each invariant is a step with a count and sample ids: events unprocessed past the threshold, events with errors by type, open cases whose membership is valid again, recovered cases without a success event, actions after a case closed, duplicate provider event ids (or a missing unique constraint), cases nudged beyond the reminder schedule. --provider (the API declared in service.provider.events_api) or --provider-url lists the provider's events created in the --since window (default 24h) and writes the ones the database lacks to a replay plan (--plan-file). --fix applies the safe repairs, one transaction per invariant (try --fix --dry-run first).

                Examples:
                  opsctl reconcile
                  opsctl reconcile --provider --since 48h --plan-file missing.jsonl
                  opsctl reconcile --provider-url https://api.stripe.com/v1/events --since 7d
                  opsctl reconcile --fix --dry-run
                  opsctl reconcile --fix --env production --confirm production
                  opsctl reconcile payment pay_123
                  opsctl reconcile case case_456
                """)

        @Argument(help: "payment or case: explain one entity end to end.")
        var entity: String?

        @Argument(help: "The payment (event) id or recovery case id.")
        var id: String?

        @Option(name: .long, help: "Provider event-list API to compare with (auth and pagination from service.provider.events_api); a path is relative to base_url.")
        var providerURL: String?

        @Flag(name: .long, help: "Compare with the provider's event list declared in service.provider.events_api.")
        var provider = false

        @Option(name: .long, help: "Provider comparison window: events created in the last DURATION (e.g. 24h, 7d).")
        var since: String = "24h"

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
            try FlagCheck.duration(since, "--since")
            if let entity {
                guard ["payment", "case"].contains(entity) else { throw ValidationError("'\(entity)': use 'reconcile payment <id>' or 'reconcile case <id>'") }
                guard id != nil else { throw ValidationError("reconcile \(entity) needs an id") }
                if fix || providerURL != nil || provider { throw ValidationError("--fix, --provider and --provider-url apply to the full reconcile, not to one \(entity)") }
            }
        }

        func run() throws {
            let plan = planFile.hasPrefix("/") ? planFile : FileManager.default.currentDirectoryPath + "/" + planFile
            var params: [String: JSONValue] = [
                "fix": .bool(fix), "plan_file": .string(plan),
                "stale_warn_minutes": .int(staleWarnMinutes), "stale_crit_minutes": .int(staleCritMinutes),
            ]
            if let providerURL { params["provider_url"] = .string(providerURL) }
            if provider || providerURL != nil { params["provider"] = .bool(provider); params["since"] = .string(since) }
            if let entity, let id { params["entity"] = .string(entity); params["id"] = .string(id) }
            try RunService(global: global).run("reconcile", params: params)
        }
    }
}
