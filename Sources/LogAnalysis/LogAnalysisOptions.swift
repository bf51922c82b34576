import Foundation

/// What to analyse and how: the flags of `opsctl logs analyze` and the `with:` of `logs.analyze`.
public struct LogAnalysisOptions: Sendable {
    /// Only lines newer than now minus this many seconds (`--since 2h`).
    public var since: Double?
    public var from: Date?
    public var to: Date?
    /// Only lines at or above this level (`--level warn`); also the level fingerprints start at.
    public var minLevel: LogLevel?
    /// POSIX extended regular expression matched against the raw line (`--grep`).
    public var grep: String?
    /// Field to group by (`--by route`); dotted paths reach into JSON objects.
    public var groupBy: String?
    /// How many fingerprints and groups the report lists (`--top`).
    public var top: Int
    /// Window width in seconds (`--window 5m`); nil picks one that gives at most `maxWindows` bars.
    public var window: Double?
    /// Numeric field holding a latency, in milliseconds (`--latency-field duration_ms`).
    public var latencyField: String?
    public var thresholds: [LogThreshold]
    /// Forces a format instead of detecting it per file.
    public var format: LogFormat?
    /// Worker threads; defaults to the number of cores.
    public var workers: Int
    /// Distinct fingerprints (and groups) kept exactly; past it the table is pruned and flagged.
    public var tableCap: Int
    /// Latency samples kept for exact quantiles; past it a log-bucket histogram (±0.5 %) answers.
    public var exactLatencyLimit: Int
    /// Lines longer than this are counted as unparsed, never parsed.
    public var maxLineBytes: Int
    /// Bytes handed to a worker at a time.
    public var chunkBytes: Int
    /// The bars of the automatic window choice.
    public var maxWindows: Int
    /// "Now" for `since` (injectable for tests).
    public var now: Date
    /// Called by the reading thread after it queued each mapped segment (tests truncate the file there).
    var afterMappedSegment: (@Sendable () -> Void)?
    /// The scanner's portable (SSE2) line walk even on a CPU with AVX2 (tests check both give the same answers).
    var portableScanner = false

    public init(since: Double? = nil, from: Date? = nil, to: Date? = nil, minLevel: LogLevel? = nil,
                grep: String? = nil, groupBy: String? = nil, top: Int = 10, window: Double? = nil,
                latencyField: String? = nil, thresholds: [LogThreshold] = [], format: LogFormat? = nil,
                workers: Int = ProcessInfo.processInfo.activeProcessorCount, tableCap: Int = 5_000,
                exactLatencyLimit: Int = 200_000, maxLineBytes: Int = 1 << 20, chunkBytes: Int = 4 << 20,
                maxWindows: Int = 60, now: Date = Date()) {
        self.since = since
        self.from = from
        self.to = to
        self.minLevel = minLevel
        self.grep = grep
        self.groupBy = groupBy
        self.top = top
        self.window = window
        self.latencyField = latencyField
        self.thresholds = thresholds
        self.format = format
        self.workers = max(1, workers)
        self.tableCap = max(16, tableCap)
        self.exactLatencyLimit = exactLatencyLimit
        self.maxLineBytes = maxLineBytes
        self.chunkBytes = chunkBytes
        self.maxWindows = max(1, maxWindows)
        self.now = now
    }

    /// The effective time range in epoch milliseconds.
    var timeRange: (from: Int64?, to: Int64?) {
        var lower = from.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
        if let since {
            let s = Int64(((now.timeIntervalSince1970 - since) * 1000).rounded())
            lower = max(lower ?? s, s)
        }
        return (lower, to.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) })
    }
}

/// The line formats we read.
public enum LogFormat: String, Sendable, Codable, CaseIterable {
    case json, logfmt, plain
}

/// Errors that stop an analysis before it starts (bad input path, bad expression).
public struct LogAnalysisError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
