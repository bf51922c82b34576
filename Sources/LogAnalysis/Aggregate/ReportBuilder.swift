import Foundation

/// Turns the merged counters into the public report.
enum ReportBuilder {
    static func build(_ s: ScanState, files: [LogReport.FileSummary], inputs: [String], options: LogAnalysisOptions) -> LogReport {
        var levels: [String: Int] = [:]
        for level in LogLevel.allCases { levels[level.name] = s.levelCounts[level.slot] }
        let errors = (levels["error"] ?? 0) + (levels["fatal"] ?? 0)
        let (width, windows) = s.windows.finish(maxWindows: options.maxWindows)
        let top = s.fingerprints.entries.values
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.text < $1.text }
            .prefix(max(0, options.top))
            .map { e in
                LogReport.FingerprintCount(fingerprint: e.text, count: e.count, level: LogLevel(pino: Int(e.level)).name,
                                           firstSeen: e.first == Int64.max ? nil : LogTime.date(ms: e.first),
                                           lastSeen: e.last == LineEvent.noTime ? nil : LogTime.date(ms: e.last),
                                           example: e.example)
            }
        let groups = s.groups.entries.values
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }
            .prefix(max(0, options.top))
            .map { g in
                LogReport.GroupCount(value: g.value, count: g.count, errors: g.errors,
                                     meanLatency: g.latencyCount > 0 ? g.latencySum / Double(g.latencyCount) : nil)
            }
        var latency: LogReport.LatencySummary?
        if let field = options.latencyField, s.latency.count > 0 {
            let q = s.latency.quantiles([0.5, 0.95, 0.99])
            latency = .init(field: field, count: s.latency.count, min: s.latency.minimum, max: s.latency.maximum,
                            mean: s.latency.sum / Double(s.latency.count), p50: q[0], p95: q[1], p99: q[2],
                            exact: s.latency.isExact)
        }
        var report = LogReport(
            files: files, lines: s.lines, matched: s.matched, filteredOut: s.filteredOut, unparsed: s.unparsed,
            unparsedExamples: s.unparsedSamples.map {
                .init(path: inputs[$0.file], offset: $0.offset, reason: $0.reason.rawValue, text: $0.text)
            },
            levels: levels, errors: errors, warnings: levels["warn"] ?? 0,
            errorRate: s.matched == 0 ? 0 : Double(errors) / Double(s.matched) * 100,
            markers: s.markers,
            firstSeen: s.minTime == Int64.max ? nil : LogTime.date(ms: s.minTime),
            lastSeen: s.maxTime == Int64.min ? nil : LogTime.date(ms: s.maxTime),
            windowSeconds: width,
            windows: windows.map { .init(start: LogTime.date(ms: $0.startMs), count: $0.count, errors: $0.errors) },
            fingerprintLevel: LogLevel(pino: Int(s.fingerprintLevel)).name,
            topFingerprints: Array(top), distinctFingerprints: s.fingerprints.count,
            fingerprintsCapped: s.fingerprints.capped,
            groupBy: options.groupBy, groups: Array(groups), distinctGroups: s.groups.count, groupsCapped: s.groups.capped,
            latency: latency, thresholds: [], status: .ok)
        report.apply(options.thresholds)
        return report
    }
}
