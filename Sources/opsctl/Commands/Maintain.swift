import ArgumentParser
import Checks
import Foundation
import Runbooks

extension Opsctl {
    struct Maintain: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "maintain",
            abstract: "Database maintenance: batched retention of old rows (service.retention).",
            subcommands: [Retention.self])

        struct Retention: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "retention",
                abstract: "Delete rows past their retention in short batches, archiving first where the policy says (the shipped 'retention' runbook).",
                discussion: """
                    Policies come from service.retention in opsctl.yaml or the service's profile: a table, its time column, an age \
                    (older_than), an optional condition, an optional archive (table or file) and the batch pace. Each batch deletes one \
                    key range in its own short transaction with lock_timeout, aiming at the target duration; the checkpoint is \
                    committed with it, so an interrupted or killed run continues where it stopped the next time it runs. \
                    --dry-run counts the rows per policy and shows the batch plan.

                    Examples:
                      opsctl maintain retention --dry-run
                      opsctl maintain retention --policy request_log
                      opsctl maintain retention --as-of 2026-11-01T00:00:00Z --env production --confirm production
                    """)

            @Option(name: .long, help: "Apply only this policy (repeatable; default: all).")
            var policy: [String] = []

            @Option(name: .long, help: "Compute cutoffs as of this timestamp instead of now (ISO 8601).")
            var asOf: String?

            @OptionGroup var global: GlobalOptions

            func validate() throws {
                if let asOf, ISO8601DateFormatter().date(from: asOf) == nil {
                    throw ValidationError("--as-of '\(asOf)' is not an ISO 8601 timestamp like 2026-11-01T00:00:00Z")
                }
            }

            func run() throws {
                try RunService(global: global).run("retention", params: [
                    "policies": .array(policy.map(JSONValue.string)), "as_of": .string(asOf ?? ""),
                ])
            }
        }
    }
}
