import Checks
import Foundation
import Support

/// How a reporter renders: colour for terminals, strictness for the verdict, detail level.
public struct ReporterOptions: Sendable {
    /// ANSI colours (human format only); the CLI sets it for a TTY without NO_COLOR.
    public var color: Bool
    /// `--strict`: warnings count as failures in verdicts.
    public var strict: Bool
    /// `--verbose`: metrics and diagnostics for every step, not only failing ones.
    public var verbose: Bool
    /// The `TAP version` line: 14 by default; 13 for harnesses that predate TAP 14 (Test::Harness
    /// before 3.48, i.e. the `prove` of Debian 12 and Ubuntu 24.04, rejects "version 14"). The
    /// document is otherwise identical: it uses nothing TAP 14 added (no subtests, no pragmas).
    public var tapVersion: Int
    /// Every string of the model passes through this before it is escaped into a format.
    public var masker: SecretMasker

    public init(color: Bool = false, strict: Bool = false, verbose: Bool = false, tapVersion: Int = 13,
                masker: SecretMasker = .shared) {
        self.color = color
        self.strict = strict
        self.verbose = verbose
        self.tapVersion = tapVersion
        self.masker = masker
    }
}

/// Writes a chunk of a report somewhere (ReportWriter.sink, a test buffer).
public typealias ReportSink = (String) -> Void

/// Turns the result model into one output format.
///
/// The executor calls the live hooks as the run progresses, then `runFinished`; streaming
/// formats (jsonl) write events as they come, the others write the whole `render` at the end.
/// Hooks for one run are expected to be called one at a time (the executor serialises them).
public protocol Reporter: Sendable {
    /// True when the format emits events while the run progresses.
    var isStreaming: Bool { get }
    /// The whole document for a finished run.
    func render(_ report: RunReport) -> String
    func runStarted(runbook: String, environment: String?, runID: String, sink: ReportSink)
    func stepStarted(id: String, title: String, kind: String, sink: ReportSink)
    func stepFinished(_ result: StepResult, sink: ReportSink)
    /// The end of the run: the final event for streaming formats, the whole document otherwise.
    func runFinished(_ report: RunReport, sink: ReportSink)
}

extension Reporter {
    public var isStreaming: Bool { false }
    public func runStarted(runbook: String, environment: String?, runID: String, sink: ReportSink) {}
    public func stepStarted(id: String, title: String, kind: String, sink: ReportSink) {}
    public func stepFinished(_ result: StepResult, sink: ReportSink) {}
    public func runFinished(_ report: RunReport, sink: ReportSink) { sink(render(report)) }
}

/// `--format`: every output opsctl can produce, all derived from `RunReport`.
public enum OutputFormat: String, CaseIterable, Sendable {
    case human, json, jsonl, junit, tap, nagios, prometheus

    /// Parses a `--format` value (case-insensitive); the error lists the valid names.
    public static func parse(_ name: String) throws -> OutputFormat {
        let key = name.trimmingCharacters(in: .whitespaces).lowercased()
        if let format = OutputFormat(rawValue: key) { return format }
        throw UnknownOutputFormatError(name: name)
    }

    /// The reporter for this format.
    public func makeReporter(options: ReporterOptions = ReporterOptions()) -> any Reporter {
        switch self {
        case .human: return HumanReporter(options: options)
        case .json: return JSONReporter(options: options)
        case .jsonl: return JSONLinesReporter(options: options)
        case .junit: return JUnitReporter(options: options)
        case .tap: return TAPReporter(options: options)
        case .nagios: return NagiosReporter(options: options)
        case .prometheus: return PrometheusReporter(options: options)
        }
    }

    /// The process exit code for a finished run under this format (DESIGN.md contract):
    /// Nagios plugin codes for `nagios`; otherwise 2 aborted, 1 any fail/error (or warn with
    /// `strict`), 0 otherwise.
    public func exitCode(for report: RunReport, strict: Bool) -> Int32 {
        if self == .nagios { return nagiosExitCode(for: report) }
        if report.aborted != nil { return 2 }
        if report.results.contains(where: { $0.status.isFailure || (strict && $0.status == .warn) }) { return 1 }
        return 0
    }
}

/// `--format` named something opsctl does not produce.
public struct UnknownOutputFormatError: Error, CustomStringConvertible, Sendable {
    public var name: String

    public var description: String {
        "unknown output format '\(name)'; valid formats: "
            + OutputFormat.allCases.map(\.rawValue).joined(separator: ", ")
    }
}
