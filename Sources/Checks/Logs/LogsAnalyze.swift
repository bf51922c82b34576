import Foundation
import LogAnalysis
import Support
#if canImport(Glibc)
import Glibc
#endif

/// Log files analysed in one pass: levels, error rate, top error fingerprints, windows, groups, latency; thresholds decide.
public struct LogsAnalyze: StepKind {
    public static let name = "logs.analyze"
    public static let summary = "Error rate, top error fingerprints, per-window counts and latency quantiles of log files, with thresholds"
    public static let parameters: [ParameterSpec] = [
        .init("files", .list, required: true, "log files or globs (JSON lines, logfmt or plain text; .gz read as is; - is stdin); relative paths resolve from the directory of opsctl.yaml"),
        .init("since", .duration, "only lines newer than this (e.g. 2h)"),
        .init("from", .string, "only lines at or after this ISO-8601 time"),
        .init("to", .string, "only lines before this ISO-8601 time"),
        .init("level", .string, "only lines at or above this level (trace, debug, info, warn, error, fatal)"),
        .init("grep", .string, "only lines matching this POSIX extended regex"),
        .init("by", .string, "field to group by (route, event, company_id; dotted paths reach into objects)"),
        .init("top", .int, default: 10, "fingerprints and groups listed"),
        .init("window", .duration, "window width of the per-window counts (default: automatic, at most 60 windows)"),
        .init("latency_field", .string, "numeric field holding a latency in ms (p50/p95/p99)"),
        .init("thresholds", .list, default: ["error_rate>1%:warn", "error_rate>5%:fail"],
              "rules METRIC>VALUE:warn|fail on error_rate, errors, warnings, fatal, lines, unparsed, p50, p95, p99; with a baseline also METRIC_increase_pct, _increase_abs, _decrease_pct, _decrease_abs"),
        .init("baseline", .string, "compare with another log file (yesterday's; relative paths resolve like files) or a duration (1h: the window of that length before the current one in the same files)"),
    ]
    public static let mutates = false
    public static let example = """
        - id: api-logs
          kind: logs.analyze
          with:
            files: [examples/churn-saver/logs/api.log]
            since: 2h
            latency_field: duration_ms
            by: route
            thresholds: ["error_rate>1%:warn", "error_rate>5%:fail", "p95>2000:fail"]
        """

    let files: [String]
    let options: LogAnalysisOptions
    let baseline: String?

    public init(_ p: StepParameters) throws {
        files = try p.stringList("files")
        guard !files.isEmpty else { throw StepError("step '\(p.stepID)': parameter 'files' needs at least one file") }
        var o = LogAnalysisOptions()
        o.since = try p.duration("since")
        if let from = try p.optionalString("from") {
            guard let d = LogTime.parse(from) else { throw StepError("step '\(p.stepID)': parameter 'from' must be an ISO-8601 time, got '\(from)'") }
            o.from = d
        }
        if let to = try p.optionalString("to") {
            guard let d = LogTime.parse(to) else { throw StepError("step '\(p.stepID)': parameter 'to' must be an ISO-8601 time, got '\(to)'") }
            o.to = d
        }
        if let level = try p.optionalString("level") {
            guard let l = LogLevel(word: level) else { throw StepError("step '\(p.stepID)': parameter 'level' must be trace, debug, info, warn, error or fatal, got '\(level)'") }
            o.minLevel = l
        }
        o.grep = try p.optionalString("grep")
        o.groupBy = try p.optionalString("by")
        o.top = try p.int("top", default: 10)
        o.window = try p.duration("window")
        o.latencyField = try p.optionalString("latency_field")
        let rules = p["thresholds"] == nil ? ["error_rate>1%:warn", "error_rate>5%:fail"] : try p.stringList("thresholds")
        do {
            o.thresholds = try rules.map { try LogThreshold($0) }
        } catch {
            throw StepError("step '\(p.stepID)': \(error)")
        }
        options = o
        baseline = try p.optionalString("baseline")
        if baseline == nil, o.thresholds.contains(where: { LogBaseline.split($0.metric) != nil }) {
            throw StepError("step '\(p.stepID)': thresholds on an increase or decrease need baseline: (a log file or a duration like 1h)")
        }
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        // Relative paths resolve from opsctl.yaml's directory, like migrations.dir: cron runs from elsewhere.
        let paths = try Self.expand(files.map { Self.resolve($0, from: context.baseDirectory) })
        let report: LogReport
        do {
            report = try LogAnalyzer(options).analyze(paths: paths, baseline: try baselineSpec(context))
        } catch {
            throw StepError("\(error)")
        }
        return Self.outcome(report, thresholds: options.thresholds)
    }

    static func resolve(_ path: String, from base: String?) -> String {
        guard let base, path != "-", !path.hasPrefix("/") else { return path }
        return base + "/" + path
    }

    /// Globs expand to their matches in order; a pattern or file that matches nothing is an error.
    static func expand(_ patterns: [String]) throws -> [String] {
        var out: [String] = []
        for pattern in patterns {
            guard pattern.contains(where: { "*?[".contains($0) }) else { out.append(pattern); continue }
            var g = glob_t()
            defer { globfree(&g) }
            guard glob(pattern, 0, nil, &g) == 0, g.gl_pathc > 0 else { throw StepError("no log file matches \(pattern)") }
            for i in 0..<Int(g.gl_pathc) { if let p = g.gl_pathv[i] { out.append(String(cString: p)) } }
        }
        return out
    }

    /// The step result of a report: status from the thresholds, metrics, and the answers as details.
    /// `withDetails: false` when only the status and message are wanted (`logs analyze --format json`
    /// prints the report itself): the details are the whole report encoded and parsed back.
    public static func outcome(_ report: LogReport, thresholds: [LogThreshold], withDetails: Bool = true) -> StepOutcome {
        // Metrics carry limits in the one rule's terms (fires at value >= limit): on a count,
        // `errors>50` is a limit of 51; on a rate or a latency `>x` stays x (the nearest ≥ limit).
        let continuous: Set<String> = ["error_rate", "unparsed_rate", "p50", "p95", "p99", "max_latency", "mean_latency"]
        func limits(_ metric: String) -> (warn: Double?, crit: Double?) {
            let rules = thresholds.filter { $0.metric == metric && ($0.comparison == .greater || $0.comparison == .greaterOrEqual) }
            func limit(_ rule: LogThreshold) -> Double {
                rule.comparison == .greater && !continuous.contains(metric) ? rule.value.rounded(.down) + 1 : rule.value
            }
            return (rules.filter { $0.status == .warn }.map(limit).min(), rules.filter { $0.status == .fail }.map(limit).min())
        }
        func metric(_ name: String, _ value: Double, _ unit: String, min: Double? = 0, max: Double? = nil) -> Metric {
            let l = limits(name)
            return Metric(name: name, value: value, unit: unit, warn: l.warn, crit: l.crit, min: min, max: max)
        }
        var metrics = [
            metric("error_rate", report.errorRate, "%", max: 100),
            metric("errors", Double(report.errors), "count"),
            metric("warnings", Double(report.warnings), "count"),
            metric("lines", Double(report.matched), "count"),
            metric("unparsed", Double(report.unparsed), "count"),
        ]
        if let l = report.latency {
            metrics += [metric("p50", l.p50, "ms"), metric("p95", l.p95, "ms"), metric("p99", l.p99, "ms")]
        }
        let status: StepStatus = report.status == .fail ? .fail : report.status == .warn ? .warn : .ok
        var message = String(format: "%d lines, error rate %.2f %% (%d errors)", report.matched, report.errorRate, report.errors)
        if let l = report.latency { message += ", p95 \(DurationText.format(milliseconds: l.p95))" }
        if let baseline = report.baseline {
            metrics += baselineMetrics(baseline, thresholds: thresholds)
            message += "; " + baselineSummary(baseline)
        }
        if let top = report.topFingerprints.first { message += "; top: \(top.fingerprint.prefix(80)) (\(top.count))" }
        let breached = report.thresholds.filter(\.breached).map(\.threshold)
        if !breached.isEmpty { message += "; breached: " + breached.joined(separator: ", ") }
        var details: [String: JSONValue] = [:]
        if withDetails, let text = try? report.jsonText(pretty: false), case let .object(o)? = JSONValue.parse(text) { details = o }
        return .init(status, message, details: details, metrics: metrics)
    }
}
