import Foundation

/// How `logs analyze --follow` runs: how often it reports, over which sliding window, for how long.
public struct LogFollowOptions: Sendable {
    /// Seconds between reports (`--every`).
    public var every: Double
    /// The sliding window the report and the thresholds see, in seconds (`--last 15m`): lines that
    /// arrived longer ago than this have rotated out.
    public var window: Double
    /// Stop after this many seconds (`--for`); nil: until stdin ends or a signal.
    public var duration: Double?
    /// Read what the files already hold before following (default: from their end, like `tail -F -n 0`).
    public var fromStart: Bool
    /// Stop as soon as a fail threshold is crossed (checked as lines arrive, not only at each report).
    public var exitOnFail: Bool

    public init(every: Double = 10, window: Double = 900, duration: Double? = nil, fromStart: Bool = false, exitOnFail: Bool = false) {
        self.every = max(0.05, every)
        self.window = max(1, window)
        self.duration = duration
        self.fromStart = fromStart
        self.exitOnFail = exitOnFail
    }
}

/// One refresh of a follow: the analysis of the sliding window, and what the follow saw since it started.
public struct LogFollowSnapshot: Sendable {
    public var at: Date
    /// The lines that arrived within the window, analysed like `logs analyze` (thresholds applied).
    public var report: LogReport
    public var windowSeconds: Double
    /// Lines read since the follow started (including those rotated out of the window).
    public var linesTotal: Int
    /// Files renamed away and recreated at their path, and files truncated in place (copytruncate).
    public var rotations: Int
    public var truncations: Int
    /// Followed paths that do not exist (yet): followed as soon as they appear.
    public var waiting: [String]
    /// Entries the analyzer holds (fingerprints, groups, latency samples, time windows): bounded by
    /// the table caps times the number of slices, whatever the volume.
    public var retainedEntries: Int
    /// The process's peak resident set (VmHWM), when the system says.
    public var peakRSSBytes: Int?
    /// Why the follow ended (nil while it runs).
    public var ended: String?
    /// Whether inotify wakes the follow (false: files are checked every 250 ms instead).
    public var inotify: Bool

    /// The follow's own fields and the window's analysis as one JSON object (`--format json|jsonl`).
    public func jsonText(pretty: Bool) throws -> String {
        var header: [String: Any] = [
            "at": LogTime.iso(at), "window_seconds": windowSeconds, "lines_total": linesTotal, "rotations": rotations,
            "truncations": truncations, "waiting": waiting, "retained_entries": retainedEntries, "inotify": inotify,
            "status": report.status.rawValue,
        ]
        if let peakRSSBytes { header["peak_rss_bytes"] = peakRSSBytes }
        if let ended { header["ended"] = ended }
        var options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { options.insert(.prettyPrinted) }
        let head = String(decoding: try JSONSerialization.data(withJSONObject: header, options: options), as: UTF8.self)
        // The report goes in as its own encoding (snake_case keys, ISO times), under "report".
        let body = try report.jsonText(pretty: pretty)
        return String(head.dropLast()).trimmingCharacters(in: .whitespacesAndNewlines) + (pretty ? ",\n  \"report\" : " : ",\"report\":") + body + (pretty ? "\n}" : "}")
    }
}
