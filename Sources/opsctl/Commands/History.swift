import ArgumentParser
import Foundation
import Runbooks
import Support

extension Opsctl {
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "history",
            abstract: "List recorded runs from the journal (newest first). Killed runs show as 'interrupted'.")

        @Option(name: .long, help: "Only runs of this runbook.")
        var runbook: String?

        @Option(name: .long, parsing: .unconditional, help: "How many runs.")
        var limit: Int = 20

        @OptionGroup var global: GlobalOptions

        func validate() throws { try FlagCheck.range(limit, "--limit", 1...100_000) }

        func run() throws {
            let service = RunService(global: global)
            let (_, env) = try service.environment()
            guard let journal = service.journal(env, runbook: "history") else { return }
            let runs = try journal.history(runbook: runbook, limit: limit)
            if global.format == "json" {
                let encoder = JSONEncoder()
                encoder.dateEncodingStrategy = .iso8601
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(SecretMasker.shared.mask(String(decoding: try encoder.encode(runs), as: UTF8.self)))
                return
            }
            let f = ISO8601DateFormatter()
            print("RUN ID                 STARTED               RUNBOOK         ENV          STATUS       DURATION  ACTOR")
            for r in runs {
                let duration = r.durationMs.map { DurationText.format(milliseconds: $0) } ?? "-"
                let status = Self.shownStatus(r) + (r.dryRun ? " (dry)" : "")
                print([r.runID.padding(toLength: 22, withPad: " ", startingAt: 0),
                       f.string(from: r.startedAt).padding(toLength: 21, withPad: " ", startingAt: 0),
                       r.runbook.padding(toLength: 15, withPad: " ", startingAt: 0),
                       (r.environment ?? "-").padding(toLength: 12, withPad: " ", startingAt: 0),
                       status.padding(toLength: 12, withPad: " ", startingAt: 0),
                       duration.padding(toLength: 9, withPad: " ", startingAt: 0),
                       r.actor].joined(separator: " "))
            }
            Terminal.note("(\(runs.count) run(s) from \(journal.location))")
        }

        /// A run stopped before completion (confirmation refused, lock held, deadline) is recorded with its
        /// steps' status plus an `aborted` reason: show `aborted`, the word the exit code 2 stands for.
        static func shownStatus(_ run: RunSummary) -> String {
            run.aborted != nil && !["interrupted", "running"].contains(run.status) ? "aborted" : run.status
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Re-render a recorded run in any format.")

        @Argument(help: "Run id (see 'opsctl history').")
        var runID: String

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let service = RunService(global: global)
            let (_, env) = try service.environment()
            guard let journal = service.journal(env, runbook: "show"), let report = try journal.report(runID: runID) else {
                Terminal.error("no run \(runID) in the journal; see 'opsctl history'")
                throw ExitCode(65)
            }
            let format = try OutputFormat.parse(global.format)
            let writer = ReportWriter(output: global.output)
            let reporter = format.makeReporter(options: global.reporterOptions())
            try writer.write(reporter.render(report))
            throw ExitCode(format.exitCode(for: report, strict: global.strict))
        }
    }
}
