import CSimdJSON
import Foundation
import Testing
@testable import LogAnalysis

/// The scanner counts plain lines itself (`cs_tally_lines`) and parses clean lines from bit masks and
/// the previous line's layout; `--grep` takes the line-by-line path through Swift. Both must give the
/// same report, on tidy pino lines and on every odd line a parser could trip on.
@Suite struct ScannerCountingTests {
    static let oddLines = [
        #"{"level":"warn","time":"2026-01-01T00:00:00Z","msg":"a \"quoted\" thing","route":"/x","duration_ms":3}"#,
        #"  {"level":40 , "time" : 1767225600000 , "route":null,"duration_ms":1.5e2,"msg":"spaced"}  "#,
        #"{"level":50,"msg":"café at 12","route":"/é","duration_ms":-3}"#,
        #"{"a":{"b":1},"level":30,"route":"/nested","duration_ms":4}"#,
        "not json at all",
        "",
        "{}",
        #"{"level":30,"time":12345678901234567,"route":"r","duration_ms":01}"#,
        #"{"level":30,"route":true,"duration_ms":"12"}"#,
        "{\"level\":30,\"time\":1767225600000,\"route\":\"crlf\",\"duration_ms\":7}\r",
        "{\"level\":30\t,\"msg\":\"tab\",\"route\":\"tab\"}",
        #"{"lvl":"ERROR","ts":1767225600.5,"message":"upstream 10.0.0.1 returned 503","route":"/lvl"}"#,
        #"{"level":30,"level":50,"msg":"dup","msg":"dup2","route":"/dup","route":"/dup2"}"#,
        #"{"level":30,"duration_ms":123456789012345678901,"route":"big"}"#,
        #"{"level":30,"route":"x""#,
        #"{"level":30,"time":1767225600000,"pid":42,"route":"/api/users","duration_ms":70000,"msg":"slow"}"#,
        #"{"level":30,"time":1767225600000,"pid":42,"route":"/api/users","duration_ms":12.5,"msg":"fraction"}"#,
        #"{"level":30,"time":1767225600000,"pid":42,"route":7,"duration_ms":46,"msg":"numeric route"}"#,
        #"{"level":30,"time":1767225600000,"pid":42,"route":"/api/users","duration_ms":46,"msg":null,"extra":true}"#,
        #"{"level":30,"time":1767225600000,"pid":42,"route":"/api/users","duration_ms":-46,"msg":"negative"}"#,
        #"{"time":1767225600000,"level":30,"route":"/reordered","msg":"keys in another order","duration_ms":5}"#,
        #"{"level":30,"time":1767225600000,"pid":42,"route":"/api/users","duration_ms":46,"msg":"x"}}"#,
        #"{"level":30,"route":"\u002Fescaped","duration_ms":8}"#,
        // Raw control bytes in strings (0x1F and 0x01: both malformed JSON) and DEL (0x7F: allowed).
        "{\"level\":50,\"msg\":\"unit\u{1F}separator\",\"route\":\"/ctl\",\"duration_ms\":2}",
        "{\"level\":30,\"msg\":\"start\u{01}of heading\",\"route\":\"/ctl\",\"duration_ms\":2}",
        "{\"level\":30,\"msg\":\"delete\u{7F}\",\"route\":\"/ctl\",\"duration_ms\":2}",
        String(repeating: "x", count: 1200),
    ]

    static func mixedCorpus() -> String {
        let tidy = Corpus.pino(lines: 2_000).text.split(separator: "\n", omittingEmptySubsequences: false)
        var out: [String] = []
        for (i, line) in tidy.enumerated() {
            out.append(String(line))
            if i % 37 == 0 { out.append(oddLines[(i / 37) % oddLines.count]) }
        }
        return out.joined(separator: "\n") + oddLines.joined(separator: "\n") + "\n" + #"{"level":30,"route":"/no-newline","duration_ms":5}"#
    }

    @Test(arguments: [(4 << 20, 1), (4096, 2), (1500, 3)])
    func scannerCountsEqualLineByLineCounts(chunk: Int, workers: Int) throws {
        let file = TempFile(Self.mixedCorpus())
        func run(grep: String?) throws -> LogReport {
            try analyze([file.path], segmented(chunk: chunk, workers: workers, grep: grep))
        }
        let counted = try run(grep: nil)
        let lineByLine = try run(grep: "^")
        #expect(counted.lines > 2_000 && counted.unparsed > 0)
        Self.expectSame(counted, lineByLine)
    }

    /// The scanner's AVX2 line walk (on a CPU that has it) and its portable SSE2 one give the same report,
    /// odd lines included; both equal the line-by-line path.
    @Test(arguments: [(4 << 20, 1), (1500, 3)])
    func portableAndVectorWalksGiveTheSameReport(chunk: Int, workers: Int) throws {
        let file = TempFile(Self.mixedCorpus())
        func run(portable: Bool, grep: String? = nil) throws -> LogReport {
            try analyze([file.path]) {
                segmented(chunk: chunk, workers: workers, grep: grep)(&$0)
                $0.portableScanner = portable
            }
        }
        let portable = try run(portable: true)
        #expect(portable.lines > 2_000 && portable.unparsed > 0)
        Self.expectSame(try run(portable: false), portable)
        Self.expectSame(portable, try run(portable: true, grep: "^"))
    }

    /// The AVX2 walk runs exactly when the CPU has AVX2 and BMI2; asking for the portable one gets it.
    @Test func theVectorWalkRunsWhenTheCPUHasIt() throws {
        let json = JSONLines(groupBy: nil, latencyField: nil)
        #expect(cs_parser_set_portable(json.parser, 1) == 0)
        #if arch(x86_64) && os(Linux)
        let cpu = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set((cpu.split(separator: "\n").first { $0.hasPrefix("flags") } ?? "").split(separator: " ").map(String.init))
        #expect((cs_parser_set_portable(json.parser, 0) == 1) == (flags.contains("avx2") && flags.contains("bmi2")))
        #else
        #expect(cs_parser_set_portable(json.parser, 0) == 0)
        #endif
    }

    /// Field by field (a failure names the field); the latency mean only to rounding, since a sum of
    /// doubles too large to be exact (1.2e20 here) depends on the order of the additions.
    static func expectSame(_ a: LogReport, _ b: LogReport) {
        #expect(a.lines == b.lines)
        #expect(a.matched == b.matched)
        #expect(a.filteredOut == b.filteredOut)
        #expect(a.unparsedExamples == b.unparsedExamples)
        #expect(a.levels == b.levels)
        #expect(a.firstSeen == b.firstSeen && a.lastSeen == b.lastSeen)
        #expect(a.windows == b.windows)
        #expect(a.topFingerprints == b.topFingerprints)
        #expect(a.groups == b.groups)
        var x = a, y = b
        if let l = a.latency, let m = b.latency {
            #expect(abs(l.mean - m.mean) <= 1e-9 * max(1, abs(m.mean)))
            x.latency?.mean = 0
            y.latency?.mean = 0
        }
        #expect(x.latency == y.latency)
        #expect(x == y)
    }

    @Test func filtersGiveTheSameCountsBothWays() throws {
        let file = TempFile(Self.mixedCorpus())
        let from = Date(timeIntervalSince1970: Double(Corpus.start) / 1000 + 600)
        func run(grep: String?) throws -> LogReport {
            try analyze([file.path]) {
                $0.from = from
                $0.to = from.addingTimeInterval(3_600)
                $0.minLevel = .info
                $0.groupBy = "route"
                $0.latencyField = "duration_ms"
                $0.grep = grep
            }
        }
        let counted = try run(grep: nil)
        #expect(counted.filteredOut > 0 && counted.matched > 0)
        Self.expectSame(counted, try run(grep: "^"))
    }
}
