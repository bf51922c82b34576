import Foundation

/// Everything `logs analyze` answers about a set of log files; JSON-encodable as is.
public struct LogReport: Sendable, Codable, Equatable {
    public var files: [FileSummary]
    /// Non-empty lines read.
    public var lines: Int
    /// Lines that parsed and passed the filters: the population every answer below is about.
    public var matched: Int
    /// Parsed lines left out by `since`/`from`/`to`/`level`/`grep`.
    public var filteredOut: Int
    public var unparsed: Int
    public var unparsedExamples: [UnparsedLine]
    /// Matched lines per level name (`trace` … `fatal`, `unknown`).
    public var levels: [String: Int]
    /// error + fatal lines.
    public var errors: Int
    public var warnings: Int
    /// errors / matched, in percent.
    public var errorRate: Double
    /// The runbooks' ✅ ⚠️ ❌ markers seen in matched lines.
    public var markers: Markers
    public var firstSeen: Date?
    public var lastSeen: Date?
    /// Width of the windows in seconds.
    public var windowSeconds: Double
    public var windows: [WindowCount]
    /// Lowest level that is fingerprinted (error unless `--level` says otherwise).
    public var fingerprintLevel: String
    public var topFingerprints: [FingerprintCount]
    /// Distinct fingerprints still in the table (a lower bound when `fingerprintsCapped`).
    public var distinctFingerprints: Int
    /// The table hit its cap: rare fingerprints were pruned and counts are lower bounds.
    public var fingerprintsCapped: Bool
    public var groupBy: String?
    public var groups: [GroupCount]
    public var distinctGroups: Int
    public var groupsCapped: Bool
    public var latency: LatencySummary?
    public var thresholds: [ThresholdOutcome]
    /// Worst threshold outcome.
    public var status: LogStatus
    /// With `--baseline`: the baseline's values and the change of each metric.
    public var baseline: LogBaseline? = nil

    public struct FileSummary: Sendable, Codable, Equatable {
        public var path: String
        public var format: LogFormat
        public var compressed: Bool
        /// Bytes analysed (decompressed).
        public var bytes: Int
        public var lines: Int
        public var unparsed: Int
        /// Bytes before the first line that can match `--since`/`--from`, found by binary search and never read.
        public var skippedBytes: Int = 0
        /// Bytes the binary search read to find them.
        public var probedBytes: Int = 0
    }

    public struct UnparsedLine: Sendable, Codable, Equatable {
        public var path: String
        /// Byte offset of the line in the (decompressed) input.
        public var offset: Int
        public var reason: String
        /// The line's first 200 bytes, invalid UTF-8 replaced by U+FFFD.
        public var text: String
    }

    public struct Markers: Sendable, Codable, Equatable {
        public var ok = 0, warn = 0, fail = 0
    }

    public struct WindowCount: Sendable, Codable, Equatable {
        public var start: Date
        public var count: Int
        public var errors: Int

        private enum CodingKeys: String, CodingKey { case start, count, errors }

        /// `start` written as the text jsonText's date strategy gives it, without going through the
        /// strategy's closure: a day of 1-minute windows is 1,440 of these, encoded after the scan.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(LogTime.iso(start), forKey: .start)
            try c.encode(count, forKey: .count)
            try c.encode(errors, forKey: .errors)
        }
    }

    public struct FingerprintCount: Sendable, Codable, Equatable {
        public var fingerprint: String
        public var count: Int
        /// Highest level seen with it.
        public var level: String
        public var firstSeen: Date?
        public var lastSeen: Date?
        public var example: String
    }

    public struct GroupCount: Sendable, Codable, Equatable {
        public var value: String
        public var count: Int
        public var errors: Int
        /// Mean of the latency field over the group's lines that had one.
        public var meanLatency: Double?
    }

    public struct LatencySummary: Sendable, Codable, Equatable {
        public var field: String
        public var count: Int
        public var min: Double
        public var max: Double
        public var mean: Double
        public var p50: Double
        public var p95: Double
        public var p99: Double
        /// True when quantiles are exact (nearest rank); false when they come from the histogram (±0.5 %).
        public var exact: Bool
    }
}

/// The verdict of thresholds on a report.
public enum LogStatus: String, Sendable, Codable, Comparable {
    case ok, warn, fail

    var rank: Int { self == .ok ? 0 : self == .warn ? 1 : 2 }
    public static func < (a: LogStatus, b: LogStatus) -> Bool { a.rank < b.rank }
}

extension LogReport {
    /// The report as JSON text (sorted keys, ISO-8601 dates): `--format json`. Written directly; the same
    /// bytes as `encodedJSONText` (JSONEncoder), which tests hold it to.
    public func jsonText(pretty: Bool = true) throws -> String {
        LogReportJSON.text(self, pretty: pretty)
    }

    /// The report through JSONEncoder: the reference the direct writer is tested against.
    func encodedJSONText(pretty: Bool = true) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, enc in
            var c = enc.singleValueContainer()
            try c.encode(LogTime.iso(date))
        }
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The value of a threshold metric (`error_rate`, `p95`, `errors`, …); nil when not measured.
    public func metric(_ name: String) -> Double? {
        switch name {
        case "error_rate": return errorRate
        case "errors": return Double(errors)
        case "warnings", "warns": return Double(warnings)
        case "fatal": return Double(levels["fatal"] ?? 0)
        case "lines", "count", "total", "matched": return Double(matched)
        case "unparsed": return Double(unparsed)
        case "unparsed_rate": return lines == 0 ? 0 : Double(unparsed) / Double(lines) * 100
        case "p50": return latency?.p50
        case "p95": return latency?.p95
        case "p99": return latency?.p99
        case "max_latency", "latency_max": return latency?.max
        case "mean_latency", "latency_mean": return latency?.mean
        case "markers_fail", "failures": return Double(markers.fail)
        case "markers_warn": return Double(markers.warn)
        default:
            if let level = LogLevel(word: name), levels[level.name] != nil || LogLevel.allCases.contains(level) {
                return Double(levels[level.name] ?? 0)
            }
            return nil
        }
    }
}
