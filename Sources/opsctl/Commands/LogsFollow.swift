import ArgumentParser
import Checks
import Dispatch
import Foundation
import LogAnalysis
import Runbooks
import Support

/// The flags of `logs analyze --follow`.
struct LogsFollowOptions: ParsableArguments {
    @Flag(name: .long, help: "Keep reading the files as they grow (through rotation and truncation, like tail -F) or stdin as it arrives; report every --every.")
    var follow = false
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("With --follow: time between two reports (default 10s).", valueName: "interval"))
    var every: String?
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("With --follow: the sliding window the report and the thresholds see (default 15m).", valueName: "duration"))
    var last: String?
    @Option(name: .customLong("for"), parsing: .unconditional, help: ArgumentHelp("With --follow: stop after this long (default: until Ctrl-C, SIGTERM or the end of stdin).", valueName: "duration"))
    var forDuration: String?
    @Flag(name: .long, help: "With --follow: read what the files hold already, then follow (default: only lines written from now on).")
    var fromStart = false
    @Flag(name: .long, help: "With --follow: exit 1 as soon as a fail threshold is crossed.")
    var exitOnFail = false

    func validate() throws {
        for (value, flag) in [(every, "--every"), (last, "--last"), (forDuration, "--for")] {
            try FlagCheck.duration(value, flag)
            if let value, (DurationText.seconds(value) ?? 0) <= 0 { throw ValidationError("\(flag) needs a duration above 0, e.g. \(flag) 30s") }
        }
        if !follow && (every != nil || last != nil || forDuration != nil || fromStart || exitOnFail) {
            throw ValidationError("--every, --last, --for, --from-start and --exit-on-fail go with --follow")
        }
    }

    var plan: LogFollowOptions {
        LogFollowOptions(every: every.flatMap(DurationText.seconds) ?? 10, window: last.flatMap(DurationText.seconds) ?? 900,
                         duration: forDuration.flatMap(DurationText.seconds), fromStart: fromStart, exitOnFail: exitOnFail)
    }
}

extension Opsctl.Logs.Analyze {
    /// `--follow`: a report every interval (one screen redrawn on a TTY), a final one when it ends.
    /// Exit 1 when a fail threshold was crossed at any point (a warn one with --strict), 2 when
    /// stopped by a signal with nothing failing, else 0.
    func runFollow(_ options: LogAnalysisOptions, format: OutputFormat) throws -> Never {
        let follower: LogFollower
        do { follower = try LogFollower(paths: files, options: options, follow: follow.plan) } catch {
            Terminal.error("\(error)")
            throw ExitCode(65)
        }
        let sources = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")].map { sig, name -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { follower.stop("interrupted by \(name)") }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        let redraw = format == .human && global.output == nil && Terminal.stdoutIsTTY
        var worst = LogStatus.ok
        let final: LogFollowSnapshot
        do {
            final = try follower.run { snapshot in
                worst = max(worst, snapshot.report.status)
                try emit(snapshot, format: format, redraw: redraw)
                return true
            }
        } catch let error as ReportWriterError {
            Terminal.error("\(error)")
            throw ExitCode(1)
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(65)
        }
        worst = max(worst, final.report.status)
        do { try emit(final, format: format, redraw: false) } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        let failing = worst == .fail || (global.strict && worst == .warn)
        if let ended = final.ended, format != .human { Terminal.note("follow ended: \(ended)") }
        if format == .nagios {
            let status: StepStatus = worst == .fail ? .fail : worst == .warn ? .warn : .ok
            throw ExitCode(format.exitCode(for: RunReport(runID: "", runbook: "logs-analyze", results: [
                StepResult(id: "logs", title: "", kind: LogsAnalyze.name, status: status, message: ""),
            ]), strict: global.strict))
        }
        if failing { throw ExitCode(1) }
        throw ExitCode(final.ended?.hasPrefix("interrupted") == true ? 2 : 0)
    }

    /// One report in the chosen format: human text (a redrawn screen on a TTY), one JSON document, one
    /// JSONL line, or the other formats' one-step report. With --output the file holds the latest one.
    func emit(_ s: LogFollowSnapshot, format: OutputFormat, redraw: Bool) throws {
        let text: String
        switch format {
        case .human:
            let width = Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 100
            let header = Self.followHeader(s)
            text = (redraw ? "\u{1B}[H\u{1B}[2J" : "") + TerminalText.sanitize(header + "\n" + s.report.renderText(width: width)) + "\n"
        case .json: text = try s.jsonText(pretty: true) + "\n"
        case .jsonl: text = try s.jsonText(pretty: false) + "\n"
        default:
            let outcome = LogsAnalyze.outcome(s.report, thresholds: (try? options().thresholds) ?? [])
            var details = outcome.details
            details["follow"] = .object(["lines_total": .int(s.linesTotal), "rotations": .int(s.rotations),
                                         "truncations": .int(s.truncations), "window_seconds": .double(s.windowSeconds)])
            let result = StepResult(id: "logs", title: "log analysis (last \(DurationText.format(milliseconds: s.windowSeconds * 1000)))",
                                    kind: LogsAnalyze.name, status: outcome.status, message: outcome.message, details: details,
                                    metrics: outcome.metrics, startedAt: s.at, durationMs: 0)
            let run = RunReport(runID: Executor.newRunID(), runbook: "logs-analyze", environment: global.env,
                                startedAt: s.at, durationMs: 0, results: [result])
            text = format.makeReporter(options: global.reporterOptions()).render(run)
        }
        try ReportWriter(output: global.output).write(text)
    }

    static func followHeader(_ s: LogFollowSnapshot) -> String {
        var parts = ["\(LogTime.iso(s.at))", "last \(DurationText.format(milliseconds: s.windowSeconds * 1000))",
                     "\(s.linesTotal) lines read"]
        if s.rotations > 0 { parts.append("\(s.rotations) rotation(s)") }
        if s.truncations > 0 { parts.append("\(s.truncations) truncation(s)") }
        if !s.waiting.isEmpty { parts.append("waiting for \(s.waiting.joined(separator: ", "))") }
        if !s.inotify { parts.append("polling every 250 ms (no inotify)") }
        if let ended = s.ended { parts.append("ended: \(ended)") }
        let crossed = s.report.thresholds.filter { $0.status != .ok }.map { "\($0.threshold) (\($0.status.rawValue))" }
        if !crossed.isEmpty { parts.append("crossed: \(crossed.joined(separator: ", "))") }
        return "== follow: " + parts.joined(separator: " · ") + " =="
    }
}
