import ArgumentParser
import Checks
import Foundation
import Runbooks

extension Opsctl {
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay",
            abstract: "Redeliver lost or failed webhook events to the service, re-signed; resumable, shareable by workers (the shipped 'replay' runbook).",
            discussion: """
                Selects events from the service's events table (or a provider export), signs each with the environment's webhook scheme and a fresh timestamp, and delivers them concurrently. Each event's outcome is checkpointed in opsctl.replay_items: --resume sends only what was not acknowledged; several processes (--join) share one replay without sending an event twice. 5xx and connection errors are retried with capped exponential backoff, 429 honours Retry-After, other 4xx fail that event for good. The service is idempotent on the event id.

                Examples:
                  opsctl replay --failed --dry-run
                  opsctl replay --failed --stale 15m --rate 50/s --verify
                  opsctl replay --since 2026-11-24T09:00Z --until 2026-11-24T10:00Z --type invoice.paid
                  opsctl replay --from-file missing-events.jsonl --verify
                  opsctl replay --resume latest
                  opsctl replay --join rp-20261124-101500-3f9a      # on another machine
                """)

        @Flag(name: .long, help: "Events with an error, or unprocessed for longer than --stale.")
        var failed = false

        @Option(name: .long, parsing: .unconditional, help: "Unprocessed for longer than this counts as failed.")
        var stale: String = "15m"

        @Option(name: .long, help: "Events that occurred at or after this time (timestamp, or 2h = two hours ago).")
        var since: String?

        @Option(name: .long, help: "Events that occurred before this time.")
        var until: String?

        @Option(name: .long, help: "Only this event type (repeatable).")
        var type: [String] = []

        @Option(name: .long, help: "Only this tenant (the service.events.tenant column, e.g. a company or shop id).")
        var company: String?

        @Option(name: .long, help: "Only the event ids in FILE (one a line).")
        var ids: String?

        @Option(name: .long, help: "Send the events of a JSON-lines export (provider export, or reconcile's plan file).")
        var fromFile: String?

        @Option(name: .long, parsing: .unconditional, help: "At most this many events.")
        var limit: Int?

        @Option(name: .long, help: "Continue replay ID (or 'latest'): only events not acknowledged are sent.")
        var resume: String?

        @Option(name: .long, help: "Work on replay ID (or 'latest') as one more worker.")
        var join: String?

        @Option(name: .long, parsing: .unconditional, help: "Requests in flight (default 8; --resume/--join: the replay's own).")
        var concurrency: Int?

        @Option(name: .long, parsing: .unconditional, help: "At most this many events per second, e.g. 50/s, up to 10000/s (default unthrottled; --resume/--join: the replay's own).")
        var rate: String?

        @Option(name: .long, parsing: .unconditional, help: "Attempts per event on 5xx and connection errors.")
        var maxAttempts: Int = 5

        @Option(name: .long, help: "Worker name recorded with each claimed event (default host:pid).")
        var worker: String?

        @Flag(name: .long, help: "Then wait until the replayed events are processed and report those still failing.")
        var verify = false

        @Option(name: .long, parsing: .unconditional, help: "How long --verify waits.")
        var verifyWait: String = "60s"

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            let selects = failed || since != nil || until != nil || !type.isEmpty || company != nil || ids != nil || fromFile != nil
            if resume != nil && join != nil { throw ValidationError("--resume and --join are exclusive") }
            if (resume != nil || join != nil) && selects { throw ValidationError("--resume/--join continue an existing replay; they take no selection flags") }
            if resume == nil && join == nil && !selects {
                throw ValidationError("say what to replay: --failed, --since/--until, --type, --company, --ids FILE or --from-file FILE (or --resume ID)")
            }
            if let concurrency, !(1...512).contains(concurrency) { throw ValidationError("--concurrency must be 1...512") }
            try FlagCheck.rate(rate, "--rate")
            try FlagCheck.time(since, "--since")
            try FlagCheck.time(until, "--until")
            try FlagCheck.duration(stale, "--stale")
            try FlagCheck.duration(verifyWait, "--verify-wait")
            try FlagCheck.range(limit, "--limit", 1...Int(Int32.max))
            try FlagCheck.range(maxAttempts, "--max-attempts", 1...100)
        }

        func run() throws {
            var params: [String: JSONValue] = [
                "failed": .bool(failed), "stale": .string(stale), "types": .array(type.map(JSONValue.string)),
                "max_attempts": .int(maxAttempts),
                "verify": .bool(verify && !global.dryRun), "verify_wait": .string(verifyWait),
            ]
            for (key, value) in [("since", since), ("until", until), ("company", company), ("ids_file", ids.map(absolute)),
                                 ("from_file", fromFile.map(absolute)), ("resume", resume), ("join", join), ("rate", rate),
                                 ("worker", worker)] {
                if let value { params[key] = .string(value) }
            }
            if let limit { params["limit"] = .int(limit) }
            // Not given: a new replay uses the default, a resumed or joined one keeps its own.
            if let concurrency { params["concurrency"] = .int(concurrency) }
            // Each worker is a journaled run. The replay runbook takes no runbook lock (`lock: false`):
            // a new replay locks its selection, and workers of one replay share it through claimed rows.
            // Its step connects twice at once (the replay's session and, for a new replay, the one writing
            // its items): both are opened while the runbook loads.
            try RunService(global: global).run("replay", params: params, verb: "replay", sessionsAhead: 2)
        }

        func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        }
    }
}
