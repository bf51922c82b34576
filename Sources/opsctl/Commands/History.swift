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

        @OptionGroup var options: JournalReadOptions

        func validate() throws { try FlagCheck.range(limit, "--limit", 1...100_000) }

        func run() throws {
            let service = RunService(global: try options.global)
            let (_, env) = try service.environment()
            guard let journal = service.journal(env, runbook: "history") else { return }
            let runs = try journal.history(runbook: runbook, limit: limit)
            if options.format == "json" {
                let encoder = JSONEncoder()
                encoder.dateEncodingStrategy = .iso8601
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(SecretMasker.shared.mask(String(decoding: try encoder.encode(runs), as: UTF8.self)))
                return
            }
            let f = ISO8601DateFormatter()
            let header = ["RUN ID", "STARTED", "RUNBOOK", "ENV", "STATUS", "DURATION", "ACTOR"]
            let rows = runs.map { r in
                [r.runID, f.string(from: r.startedAt), r.runbook, r.environment ?? "-",
                 Self.shownStatus(r) + (r.dryRun ? " (dry run)" : ""),
                 r.durationMs.map { DurationText.format(milliseconds: $0) } ?? "-", r.actor]
            }
            // Columns as wide as their widest cell: nothing is cut ("skipped (dry run)" stays whole).
            let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
            for row in [header] + rows {
                let cells = row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                print(TerminalText.sanitize(SecretMasker.shared.mask(cells.joined(separator: "  "))))
            }
            Terminal.note("(\(runs.count) run(s) from \(journal.location))")
        }

        /// A run stopped before completion (confirmation refused, lock held, deadline) is recorded with its
        /// steps' status plus an `aborted` reason: show `aborted`, the word the exit code 2 stands for.
        static func shownStatus(_ run: RunSummary) -> String {
            run.aborted != nil && !["interrupted", "running"].contains(run.status) ? "aborted" : run.status
        }
    }

    /// What `history` reads with: where the journal is and how to print it. Run flags (--confirm,
    /// --parallel, --dry-run …) mean nothing here, so they are not offered.
    struct JournalReadOptions: ParsableArguments {
        @Option(name: .long, help: "Environment from opsctl.yaml (its database holds the journal).")
        var env: String?

        @Option(name: .long, help: "Path to opsctl.yaml (default: searched upward from the current directory).")
        var config: String?

        @Option(name: .long, help: "Output format: human (a table) or json.")
        var format: String = "human"

        func validate() throws {
            guard ["human", "json"].contains(format) else { throw ValidationError("--format for history is human or json") }
        }

        /// The shared options with only these two set (parsed, so every other flag has its default).
        var global: GlobalOptions {
            get throws { try GlobalOptions.parse((env.map { ["--env", $0] } ?? []) + (config.map { ["--config", $0] } ?? [])) }
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
