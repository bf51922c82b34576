import Foundation
import Support

extension LogReport {
    /// The human block `opsctl logs analyze` prints: totals, a sparkline of lines per window and
    /// the top fingerprints. `width` bounds the table lines.
    public func renderText(width: Int = 100) -> String {
        var out: [String] = []
        let fileList = files.map { f in "\(f.path) (\(f.format.rawValue)\(f.compressed ? ", gzip" : ""))" }.joined(separator: ", ")
        out.append("Logs: \(fileList)")
        var totals = "\(Self.grouped(lines)) lines, \(Self.grouped(matched)) analysed"
        if filteredOut > 0 { totals += ", \(Self.grouped(filteredOut)) filtered out" }
        if unparsed > 0 { totals += ", \(Self.grouped(unparsed)) unparsed" }
        out.append(totals)
        if let firstSeen, let lastSeen { out.append("Time: \(LogTime.iso(firstSeen)) … \(LogTime.iso(lastSeen))") }
        let levelLine = LogLevel.allCases.reversed().compactMap { level -> String? in
            let n = levels[level.name] ?? 0
            return n == 0 ? nil : "\(level.name) \(Self.grouped(n))"
        }.joined(separator: " · ")
        out.append("Levels: \(levelLine.isEmpty ? "none" : levelLine)")
        out.append(String(format: "Error rate: %.2f %% (%@ errors)", errorRate, Self.grouped(errors)))
        if markers.ok + markers.warn + markers.fail > 0 {
            out.append("Markers: ✅ \(markers.ok)  ⚠️ \(markers.warn)  ❌ \(markers.fail)")
        }
        if let latency {
            out.append("Latency (\(latency.field), \(Self.grouped(latency.count)) samples\(latency.exact ? "" : ", ±0.5 %")): "
                + "p50 \(Self.number(latency.p50)) · p95 \(Self.number(latency.p95)) · p99 \(Self.number(latency.p99)) · max \(Self.number(latency.max))")
        }
        if !windows.isEmpty {
            let counts = windows.map(\.count)
            out.append("")
            out.append("Lines per \(DurationText.compact(windowSeconds)) (max \(Self.grouped(counts.max() ?? 0))):")
            out.append("  " + Self.sparkline(counts, width: max(10, width - 4)))
            if windows.contains(where: { $0.errors > 0 }) {
                out.append("Errors per \(DurationText.compact(windowSeconds)) (max \(Self.grouped(windows.map(\.errors).max() ?? 0))):")
                out.append("  " + Self.sparkline(windows.map(\.errors), width: max(10, width - 4)))
            }
        }
        if !topFingerprints.isEmpty {
            out.append("")
            out.append("Top \(fingerprintLevel == "error" ? "errors" : "messages (\(fingerprintLevel) and above)")"
                + (fingerprintsCapped ? " (table capped: counts are lower bounds)" : "") + ":")
            let countWidth = max(5, topFingerprints.map { Self.grouped($0.count).count }.max() ?? 5)
            out.append("  " + "count".leftPad(countWidth) + "  last seen            message")
            for f in topFingerprints {
                let last = f.lastSeen.map { String(LogTime.iso($0).prefix(19)) } ?? "-".padding(toLength: 19, withPad: " ", startingAt: 0)
                let room = max(20, width - countWidth - 25)
                out.append("  " + Self.grouped(f.count).leftPad(countWidth) + "  \(last)  " + Self.clip(f.fingerprint, room))
            }
        }
        if let groupBy, !groups.isEmpty {
            out.append("")
            out.append("By \(groupBy)" + (groupsCapped ? " (table capped)" : "") + ":")
            let valueWidth = min(40, groups.map { $0.value.count }.max() ?? 10)
            for g in groups {
                var row = "  " + Self.clip(g.value, valueWidth).padding(toLength: valueWidth, withPad: " ", startingAt: 0)
                    + "  " + Self.grouped(g.count).leftPad(10) + "  errors " + Self.grouped(g.errors).leftPad(8)
                if let mean = g.meanLatency { row += "  mean " + Self.number(mean) }
                out.append(row)
            }
        }
        if !unparsedExamples.isEmpty {
            out.append("")
            out.append("Unparsed lines (first \(unparsedExamples.count)):")
            for u in unparsedExamples {
                out.append("  \(u.path)@\(u.offset): \(u.reason): " + Self.clip(u.text.replacingOccurrences(of: "\n", with: " "), max(20, width - 40)))
            }
        }
        if !thresholds.isEmpty {
            out.append("")
            for t in thresholds {
                let value = t.value.map { Self.number($0) } ?? "n/a"
                out.append("  [\(t.status.rawValue)] \(t.threshold): \(t.metric) = \(value)\(t.note.map { " (\($0))" } ?? "")")
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// ▁▂▃▄▅▆▇█ scaled to the maximum; longer series are summed into `width` bars.
    public static func sparkline(_ values: [Int], width: Int = 80) -> String {
        guard !values.isEmpty else { return "" }
        var series = values
        if series.count > width {
            let per = (series.count + width - 1) / width
            series = stride(from: 0, to: values.count, by: per).map { values[$0..<min(values.count, $0 + per)].reduce(0, +) }
        }
        let bars = Array("▁▂▃▄▅▆▇█")
        let top = series.max() ?? 0
        guard top > 0 else { return String(repeating: " ", count: series.count) }
        return String(series.map { v in v == 0 ? " " : bars[min(7, (v * 8 - 1) / top)] })
    }

    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e12 ? String(Int(v)) : String(format: "%.2f", v)
    }

    static func clip(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(max(1, n - 1))) + "…" }
}

extension String {
    fileprivate func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}

extension DurationText {
    /// `30s`, `5m`, `1h`, `1d` for window widths.
    static func compact(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s % 86400 == 0 { return "\(s / 86400)d" }
        if s % 3600 == 0 { return "\(s / 3600)h" }
        if s % 60 == 0 { return "\(s / 60)m" }
        return seconds == seconds.rounded() ? "\(s)s" : String(format: "%.1fs", seconds)
    }
}
