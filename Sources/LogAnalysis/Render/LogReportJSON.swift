import Foundation

/// `--format json` written directly: the bytes JSONEncoder writes for the report (sorted snake_case keys,
/// two-space pretty printing, nil optionals left out, ISO-8601 dates, non-finite doubles as strings),
/// without its generic machinery — a day of 1-minute windows is thousands of keyed containers, and the
/// encoder spent ≈ 3.4 ms of the serial tail after the scan on them. LogReportJSONTests compare the two
/// byte for byte; a new field must be added here too (the test fails until it is).
struct LogReportJSON {
    private var out: [UInt8] = []
    private let pretty: Bool
    private var depth = 0

    static func text(_ r: LogReport, pretty: Bool) -> String {
        var w = LogReportJSON(pretty: pretty)
        w.out.reserveCapacity(4096 + r.windows.count * 96 + r.topFingerprints.count * 600)
        w.report(r)
        return String(decoding: w.out, as: UTF8.self)
    }

    private init(pretty: Bool) { self.pretty = pretty }

    // MARK: - The report's types

    private mutating func report(_ r: LogReport) {
        object { o in
            if let b = r.baseline { o.field("baseline") { $0.baseline(b) } }
            o.field("distinct_fingerprints") { $0.int(r.distinctFingerprints) }
            o.field("distinct_groups") { $0.int(r.distinctGroups) }
            o.field("error_rate") { $0.double(r.errorRate) }
            o.field("errors") { $0.int(r.errors) }
            o.field("files") { w in w.array(r.files) { $0.file($1) } }
            o.field("filtered_out") { $0.int(r.filteredOut) }
            o.field("fingerprint_level") { $0.string(r.fingerprintLevel) }
            o.field("fingerprints_capped") { $0.bool(r.fingerprintsCapped) }
            if let d = r.firstSeen { o.field("first_seen") { $0.date(d) } }
            if let g = r.groupBy { o.field("group_by") { $0.string(g) } }
            o.field("groups") { w in w.array(r.groups) { $0.group($1) } }
            o.field("groups_capped") { $0.bool(r.groupsCapped) }
            if let d = r.lastSeen { o.field("last_seen") { $0.date(d) } }
            if let l = r.latency { o.field("latency") { $0.latency(l) } }
            o.field("levels") { $0.counts(r.levels) }
            o.field("lines") { $0.int(r.lines) }
            o.field("markers") { w in
                w.object { m in
                    m.field("fail") { $0.int(r.markers.fail) }
                    m.field("ok") { $0.int(r.markers.ok) }
                    m.field("warn") { $0.int(r.markers.warn) }
                }
            }
            o.field("matched") { $0.int(r.matched) }
            o.field("status") { $0.string(r.status.rawValue) }
            o.field("thresholds") { w in w.array(r.thresholds) { $0.threshold($1) } }
            o.field("top_fingerprints") { w in w.array(r.topFingerprints) { $0.fingerprint($1) } }
            o.field("unparsed") { $0.int(r.unparsed) }
            o.field("unparsed_examples") { w in w.array(r.unparsedExamples) { $0.unparsedLine($1) } }
            o.field("warnings") { $0.int(r.warnings) }
            o.field("window_seconds") { $0.double(r.windowSeconds) }
            o.field("windows") { w in w.array(r.windows) { $0.window($1) } }
        }
    }

    private mutating func file(_ f: LogReport.FileSummary) {
        object { o in
            o.field("bytes") { $0.int(f.bytes) }
            o.field("compressed") { $0.bool(f.compressed) }
            o.field("format") { $0.string(f.format.rawValue) }
            o.field("lines") { $0.int(f.lines) }
            o.field("path") { $0.string(f.path) }
            o.field("probed_bytes") { $0.int(f.probedBytes) }
            o.field("skipped_bytes") { $0.int(f.skippedBytes) }
            o.field("unparsed") { $0.int(f.unparsed) }
        }
    }

    private mutating func unparsedLine(_ u: LogReport.UnparsedLine) {
        object { o in
            o.field("offset") { $0.int(u.offset) }
            o.field("path") { $0.string(u.path) }
            o.field("reason") { $0.string(u.reason) }
            o.field("text") { $0.string(u.text) }
        }
    }

    private mutating func window(_ w: LogReport.WindowCount) {
        object { o in
            o.field("count") { $0.int(w.count) }
            o.field("errors") { $0.int(w.errors) }
            o.field("start") { $0.date(w.start) }
        }
    }

    private mutating func fingerprint(_ f: LogReport.FingerprintCount) {
        object { o in
            o.field("count") { $0.int(f.count) }
            o.field("example") { $0.string(f.example) }
            o.field("fingerprint") { $0.string(f.fingerprint) }
            if let d = f.firstSeen { o.field("first_seen") { $0.date(d) } }
            if let d = f.lastSeen { o.field("last_seen") { $0.date(d) } }
            o.field("level") { $0.string(f.level) }
        }
    }

    private mutating func group(_ g: LogReport.GroupCount) {
        object { o in
            o.field("count") { $0.int(g.count) }
            o.field("errors") { $0.int(g.errors) }
            if let m = g.meanLatency { o.field("mean_latency") { $0.double(m) } }
            o.field("value") { $0.string(g.value) }
        }
    }

    private mutating func latency(_ l: LogReport.LatencySummary) {
        object { o in
            o.field("count") { $0.int(l.count) }
            o.field("exact") { $0.bool(l.exact) }
            o.field("field") { $0.string(l.field) }
            o.field("max") { $0.double(l.max) }
            o.field("mean") { $0.double(l.mean) }
            o.field("min") { $0.double(l.min) }
            o.field("p50") { $0.double(l.p50) }
            o.field("p95") { $0.double(l.p95) }
            o.field("p99") { $0.double(l.p99) }
        }
    }

    private mutating func threshold(_ t: ThresholdOutcome) {
        object { o in
            o.field("breached") { $0.bool(t.breached) }
            o.field("metric") { $0.string(t.metric) }
            if let n = t.note { o.field("note") { $0.string(n) } }
            o.field("status") { $0.string(t.status.rawValue) }
            o.field("threshold") { $0.string(t.threshold) }
            if let v = t.value { o.field("value") { $0.double(v) } }
        }
    }

    private mutating func baseline(_ b: LogBaseline) {
        object { o in
            o.field("comparisons") { w in
                w.object { c in
                    for key in b.comparisons.keys.sorted() {
                        let v = b.comparisons[key]!
                        c.field(key) { w in
                            w.object { x in
                                x.field("baseline") { $0.double(v.baseline) }
                                if let p = v.changePct { x.field("change_pct") { $0.double(p) } }
                                x.field("current") { $0.double(v.current) }
                                x.field("delta") { $0.double(v.delta) }
                            }
                        }
                    }
                }
            }
            if let d = b.from { o.field("from") { $0.date(d) } }
            o.field("source") { $0.string(b.source) }
            if let d = b.to { o.field("to") { $0.date(d) } }
            o.field("values") { w in
                w.object { v in
                    for key in b.values.keys.sorted() { v.field(key) { $0.double(b.values[key]!) } }
                }
            }
        }
    }

    private mutating func counts(_ d: [String: Int]) {
        object { o in
            for key in d.keys.sorted() { o.field(key) { $0.int(d[key]!) } }
        }
    }

    // MARK: - JSON, formatted as JSONEncoder formats it

    /// Fields of one object, written in the order given (callers give them sorted).
    struct Fields {
        fileprivate var writer: LogReportJSON
        fileprivate var count = 0
        private var last = ""

        fileprivate init(writer: LogReportJSON) { self.writer = writer }

        mutating func field(_ key: String, _ value: (inout LogReportJSON) -> Void) {
            assert(count == 0 || last < key, "keys out of order: \(last), \(key)")
            last = key
            if count > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.newline()
            writer.string(key)
            writer.bytes(writer.pretty ? " : " : ":")
            value(&writer)
            count += 1
        }
    }

    private mutating func object(_ body: (inout Fields) -> Void) {
        byte(UInt8(ascii: "{"))
        depth += 1
        // The writer (and its one buffer) moves into `fields` while it writes and back after: swapped,
        // never copied, so the buffer stays uniquely referenced and appends never copy it.
        var fields = Fields(writer: LogReportJSON(pretty: pretty))
        swap(&self, &fields.writer)
        body(&fields)
        swap(&self, &fields.writer)
        closeContainer(empty: fields.count == 0, UInt8(ascii: "}"))
    }

    private mutating func array<T>(_ items: [T], _ element: (inout LogReportJSON, T) -> Void) {
        byte(UInt8(ascii: "["))
        depth += 1
        for (i, item) in items.enumerated() {
            if i > 0 { byte(UInt8(ascii: ",")) }
            newline()
            element(&self, item)
        }
        closeContainer(empty: items.isEmpty, UInt8(ascii: "]"))
    }

    /// JSONEncoder writes an empty container as `[`, a blank line, then the closing bracket indented.
    private mutating func closeContainer(empty: Bool, _ close: UInt8) {
        depth -= 1
        if pretty {
            if empty { byte(0x0A) }
            newline()
        }
        byte(close)
    }

    private mutating func newline() {
        guard pretty else { return }
        byte(0x0A)
        for _ in 0..<(depth * 2) { byte(0x20) }
    }

    private mutating func byte(_ b: UInt8) { out.append(b) }

    private mutating func bytes(_ s: StaticString) {
        s.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    private mutating func int(_ v: Int) { out.append(contentsOf: String(v).utf8) }

    private mutating func bool(_ v: Bool) { v ? bytes("true") : bytes("false") }

    /// `description` without a trailing `.0` (100, 1.5, 1e-07, 1.2345678901234568e+20), non-finite values
    /// as the strings the report's encoder was configured with.
    private mutating func double(_ v: Double) {
        if v.isNaN { return string("nan") }
        if v.isInfinite { return string(v > 0 ? "inf" : "-inf") }
        let text = v.description
        if text.hasSuffix(".0") { out.append(contentsOf: text.utf8.dropLast(2)) } else { out.append(contentsOf: text.utf8) }
    }

    private mutating func date(_ d: Date) { string(LogTime.iso(d)) }

    /// Quotes, backslashes and control characters escaped (`\b \t \n \f \r`, others `\u00XX`); `/` and
    /// everything else as is.
    private mutating func string(_ s: String) {
        byte(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes("\\\"")
            case UInt8(ascii: "\\"): bytes("\\\\")
            case 0x08: bytes("\\b")
            case 0x09: bytes("\\t")
            case 0x0A: bytes("\\n")
            case 0x0C: bytes("\\f")
            case 0x0D: bytes("\\r")
            case 0..<0x20:
                bytes("\\u00")
                let hex: StaticString = "0123456789abcdef"
                hex.withUTF8Buffer { h in
                    out.append(h[Int(b >> 4)])
                    out.append(h[Int(b & 0x0F)])
                }
            default: out.append(b)
            }
        }
        byte(UInt8(ascii: "\""))
    }
}
