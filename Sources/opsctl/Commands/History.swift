import ArgumentParser
import Foundation
import Runbooks
import Support

extension Opsctl {
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "history",
            abstract: "List recorded runs from the journal (newest first). Killed runs show as 'interrupted'.",
            discussion: """
                With --check, a dead-man's switch for scheduled runs instead of a list: each 'RUNBOOK<DURATION' \
                fails (exit 1; Nagios CRITICAL) when that runbook has no successful run (ok or warn, not a \
                dry run) that finished within DURATION.
                  opsctl history --check 'daily<26h' --check 'weekly<8d' --format nagios
                """)

        @Option(name: .long, help: "Only runs of this runbook.")
        var runbook: String?

        @Option(name: .long, parsing: .unconditional, help: "How many runs.")
        var limit: Int = 20

        @Option(name: .long, help: ArgumentHelp("Fail unless RUNBOOK succeeded within DURATION (repeatable), e.g. 'daily<26h'.", valueName: "RUNBOOK<DURATION>"))
        var check: [String] = []

        @Option(name: .long, help: "Write the --check report to this file (atomically for prometheus).")
        var output: String?

        @OptionGroup var options: JournalReadOptions

        func validate() throws {
            try FlagCheck.range(limit, "--limit", 1...100_000)
            for c in check where HistoryCheck(c) == nil {
                throw ValidationError("--check '\(c)' must be RUNBOOK<DURATION, e.g. --check 'daily<26h'")
            }
            if check.isEmpty && !["human", "json"].contains(options.format) {
                throw ValidationError("--format for history is human or json (every format with --check)")
            }
            if check.isEmpty && output != nil { throw ValidationError("--output goes with --check") }
        }

        func run() throws {
            let service = RunService(global: try options.global)
            let (_, env) = try service.environment()
            guard let journal = service.journal(env, runbook: "history") else { return }
            if !check.isEmpty {
                try HistoryCheck.run(check.compactMap(HistoryCheck.init), journal: journal, environment: env.name,
                                     format: options.format, output: output)
            }
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

        @Option(name: .long, help: "Output format: human (a table) or json; with history --check every report format (nagios, prometheus, …).")
        var format: String = "human"

        func validate() throws {
            guard (try? OutputFormat.parse(format)) != nil else {
                throw ValidationError("--format must be one of human, json, jsonl, junit, tap, nagios, prometheus")
            }
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
