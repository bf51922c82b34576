import ArgumentParser
import Checks
import Foundation
import LogAnalysis
import Runbooks
import Support

extension Opsctl {
    struct Logs: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "logs",
            abstract: "Analyse logs: levels, error rate, top error fingerprints, per-window counts, groups, latency.",
            subcommands: [Analyze.self])

        struct Analyze: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "analyze",
                abstract: "Answer the runbooks' log questions in one streaming pass over JSON lines, logfmt or plain text (.gz too).",
                discussion: """
                    Examples:
                      opsctl logs analyze /var/log/churn-saver/api.log --since 2h --by route --latency-field duration_ms
                      opsctl logs analyze app.log.1.gz app.log --level error --top 20
                      kubectl logs deploy/app | opsctl logs analyze - --threshold 'error_rate>1%:warn' --threshold 'error_rate>5%:fail'
                      opsctl logs analyze api.log --threshold 'p95>2000:fail' --format nagios
                      kubectl logs -f deploy/app | opsctl logs analyze - --follow --threshold 'error_rate>5%:fail' --exit-on-fail
                      opsctl logs analyze /var/log/app.log --follow --every 30s --last 15m --for 10m

                    Thresholds: METRIC OP VALUE:warn|fail, OP one of > >= < <= == != and meaning exactly that (errors>=1 fires at one error, errors>1 at two), on error_rate (%), errors, warnings, fatal, lines, unparsed, p50, p95, p99 (ms).

                    --format json prints the full analysis; junit, tap, nagios, prometheus and jsonl print it as one step result. Exit 1 when a fail threshold is crossed (or a warn one with --strict).
                    """)

            @Argument(help: "Log files (globs allowed); '-' or none reads standard input.")
            var files: [String] = []

            @Option(name: .long, parsing: .unconditional, help: "Only lines newer than this (e.g. 2h, 15m).") var since: String?
            @Option(name: .long, help: "Only lines at or after this time (ISO-8601 or epoch).") var from: String?
            @Option(name: .long, help: "Only lines before this time.") var to: String?
            @Option(name: .long, help: "Only lines at or above this level: trace, debug, info, warn, error, fatal.") var level: String?
            @Option(name: .long, help: "Only lines matching this regular expression (POSIX extended).") var grep: String?
            @Option(name: .long, help: "Group by this field (route, event_type, company_id; dotted paths allowed).") var by: String?
            @Option(name: .long, parsing: .unconditional, help: "How many fingerprints and groups to list.") var top: Int = 10
            @Option(name: .long, parsing: .unconditional, help: "Width of the per-window counts (default: automatic).") var window: String?
            @Option(name: .long, help: "Numeric field with a latency in ms, for p50/p95/p99.") var latencyField: String?
            @Option(name: .long, help: "Threshold like 'error_rate>1%:warn' (repeatable).") var threshold: [String] = []
            @Option(name: .long, parsing: .unconditional, help: "Compare with another log FILE (yesterday's) or the DURATION before the current window (1h); thresholds like 'error_rate_increase_pct>=50:fail'.") var baseline: String?

            @OptionGroup var follow: LogsFollowOptions
            @OptionGroup var global: GlobalOptions

            func options() throws -> LogAnalysisOptions {
                var o = LogAnalysisOptions()
                func duration(_ flag: String, _ text: String?) throws -> Double? {
                    guard let text else { return nil }
                    try FlagCheck.duration(text, flag)
                    return DurationText.seconds(text)
                }
                func time(_ flag: String, _ text: String?) throws -> Date? {
                    guard let text else { return nil }
                    guard let d = LogTime.parse(text) else { throw ValidationError("\(flag) '\(text)' is not an ISO-8601 time or epoch") }
                    return d
                }
                o.since = try duration("--since", since)
                o.window = try duration("--window", window)
                o.from = try time("--from", from)
                o.to = try time("--to", to)
                if let level {
                    guard let l = LogLevel(word: level) else { throw ValidationError("--level must be trace, debug, info, warn, error or fatal") }
                    o.minLevel = l
                }
                o.grep = grep
                o.groupBy = by
                guard top > 0 else { throw ValidationError("--top must be at least 1") }
                o.top = top
                o.latencyField = latencyField
                do { o.thresholds = try threshold.map { try LogThreshold($0) } } catch { throw ValidationError("\(error)") }
                if baseline == nil, let relative = o.thresholds.first(where: { LogBaseline.split($0.metric) != nil }) {
                    throw ValidationError("--threshold '\(relative.text)' compares with a baseline: add --baseline FILE or --baseline DURATION")
                }
                return o
            }

            func validate() throws { _ = try options() }

            func run() throws {
                let format = try OutputFormat.parse(global.format)
                let options = try options()
                // Log lines are masked before they are fingerprinted or kept as examples.
                RunService(global: global).registerSecretsWithoutEnvironment()
                PhaseClock.mark("logs: secrets registered")
                if follow.follow { try runFollow(options, format: format) }
                let started = Date()
                let report: LogReport
                do {
                    report = try LogAnalyzer(options).analyze(paths: files.isEmpty ? ["-"] : files, baseline: baseline.map(LogBaselineSpec.init))
                } catch {
                    Terminal.error("\(error)")
                    throw ExitCode(65)
                }
                PhaseClock.mark("logs: report built")
                // human and json print the report itself; the other formats carry it as the step's details.
                let outcome = LogsAnalyze.outcome(report, thresholds: options.thresholds,
                                                  withDetails: format != .human && format != .json)
                let writer = ReportWriter(output: global.output)
                switch format {
                case .human:
                    let width = Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 100
                    var text = report.renderText(width: width)
                    if let b = report.baseline { text += (text.hasSuffix("\n") ? "" : "\n") + LogsAnalyze.baselineSummary(b) + "\n" }
                    try writer.write(TerminalText.sanitize(text))
                case .json:
                    try writer.write(try report.jsonText() + "\n")
                default:
                    // The other formats carry the analysis as one step result.
                    let result = StepResult(id: "logs", title: "log analysis", kind: LogsAnalyze.name, status: outcome.status,
                                            message: outcome.message, details: outcome.details, metrics: outcome.metrics,
                                            startedAt: started, durationMs: Date().timeIntervalSince(started) * 1000)
                    let run = RunReport(runID: Executor.newRunID(), runbook: "logs-analyze", environment: global.env,
                                        startedAt: started, durationMs: result.durationMs, results: [result])
                    try writer.write(format.makeReporter(options: global.reporterOptions()).render(run))
                }
                PhaseClock.mark("logs: report written")
                if format == .human || format == .json {
                    let failed = outcome.status == .fail || (global.strict && outcome.status == .warn)
                    throw ExitCode(failed ? 1 : 0)
                }
                let run = RunReport(runID: "", runbook: "logs-analyze", results: [
                    StepResult(id: "logs", title: "", kind: LogsAnalyze.name, status: outcome.status, message: ""),
                ])
                throw ExitCode(format.exitCode(for: run, strict: global.strict))
            }
        }
    }
}
