import Foundation
import Testing
@testable import LogAnalysis

/// `--format json` is written directly (LogReportJSON); JSONEncoder's output for the same report is the
/// reference, byte for byte, pretty and compact, on every kind of report the analyzer makes.
@Suite struct LogReportJSONTests {
    static func expectSameBytes(_ r: LogReport, _ note: String) throws {
        for pretty in [true, false] {
            let direct = try r.jsonText(pretty: pretty), encoded = try r.encodedJSONText(pretty: pretty)
            #expect(direct == encoded, "\(note), pretty \(pretty)")
            if direct != encoded {
                let a = Array(direct.utf8), b = Array(encoded.utf8)
                let at = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
                Issue.record("\(note): first difference at byte \(at): …\(String(decoding: a[max(0, at - 80)..<min(a.count, at + 80)], as: UTF8.self))… vs …\(String(decoding: b[max(0, at - 80)..<min(b.count, at + 80)], as: UTF8.self))…")
            }
        }
    }

    @Test func theGroundTruthReport() throws {
        let file = TempFile(Corpus.pino(lines: 3_000).text)
        let r = try analyze([file.path]) {
            segmented(chunk: 4096, workers: 2)(&$0)
            $0.thresholds = [try! LogThreshold("error_rate>1%:warn"), try! LogThreshold("p95>2000:fail"), try! LogThreshold("fatal>=1:fail")]
        }
        #expect(!r.windows.isEmpty && !r.topFingerprints.isEmpty && r.latency != nil && !r.thresholds.isEmpty)
        try Self.expectSameBytes(r, "ground truth")
    }

    /// Odd lines: unparsed examples with control bytes and replaced invalid UTF-8, escapes, non-ASCII.
    @Test func aReportOfOddLines() throws {
        let file = TempFile(ScannerCountingTests.mixedCorpus() + "\n\u{01}\u{1F}\u{7F} tab\there \"quoted\" back\\slash é ✓ /path\n")
        let r = try analyze([file.path]) { $0.groupBy = "route"; $0.latencyField = "duration_ms"; $0.top = 50 }
        #expect(!r.unparsedExamples.isEmpty)
        try Self.expectSameBytes(r, "odd lines")
    }

    /// Nothing read: empty arrays and objects, every optional left out.
    @Test func anEmptyReport() throws {
        let file = TempFile("")
        let r = try analyze([file.path])
        #expect(r.windows.isEmpty && r.latency == nil && r.firstSeen == nil)
        try Self.expectSameBytes(r, "empty")
    }

    @Test func aReportWithABaseline() throws {
        let yesterday = TempFile(LogBaselineTests.lines(minutesAgo: 30, count: 200, errors: 4))
        let today = TempFile(LogBaselineTests.lines(minutesAgo: 30, count: 200, errors: 8))
        let o = LogAnalysisOptions(latencyField: "duration_ms", thresholds: [try LogThreshold("error_rate_increase_pct>=50:warn")],
                                   workers: 2, now: LogBaselineTests.now)
        let r = try LogAnalyzer(o).analyze(paths: [today.path], baseline: .files([yesterday.path]))
        #expect(r.baseline != nil)
        try Self.expectSameBytes(r, "baseline")
    }

    /// Values the analyzer rarely makes: non-finite and extreme doubles, nil optionals, strings holding
    /// every escape.
    @Test func hardValues() throws {
        let file = TempFile(Corpus.pino(lines: 200).text)
        var r = try analyze([file.path]) { $0.groupBy = "route"; $0.latencyField = "duration_ms" }
        let strings = ["a\"b\\c/d", "\u{0}\u{1}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F}\u{7F}", "é ✓ 😀 \u{2028}\u{2029}", "</script>", ""]
        r.errorRate = .nan
        r.windowSeconds = 1e-7
        r.groupBy = strings[0]
        r.groups = strings.enumerated().map { .init(value: $1, count: $0, errors: 0, meanLatency: $0 % 2 == 0 ? nil : 1.2345678901234568e+20) }
        r.topFingerprints = strings.map { .init(fingerprint: $0, count: 1, level: "error", firstSeen: nil, lastSeen: Date(timeIntervalSince1970: 0.001), example: $0) }
        r.latency?.p99 = .infinity
        r.latency?.min = -.infinity
        r.latency?.mean = -0.0
        r.latency?.max = .leastNonzeroMagnitude
        r.thresholds = [ThresholdOutcome(threshold: "x", metric: "y", value: nil, breached: false, status: .ok, note: strings[1]),
                        ThresholdOutcome(threshold: "p95>1", metric: "p95", value: 1e15, breached: true, status: .fail, note: nil)]
        var b = LogBaseline(source: strings[2], from: nil, to: Date(timeIntervalSince1970: 1e9), baseline: r, current: r)
        b.values = ["b": 0.1, "a": 100, "é": 1e16]
        b.comparisons = ["z": .init(current: 1, baseline: 0, delta: 1, changePct: nil),
                         "a": .init(current: 2.5e-5, baseline: 33.333333333333336, delta: -1, changePct: 12345.678)]
        r.baseline = b
        try Self.expectSameBytes(r, "hard values")
    }
}
