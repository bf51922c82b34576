import Foundation
import Testing
@testable import LogAnalysis

@Suite struct MalformedInputTests {
    let good = #"{"level":50,"time":"2026-01-01T00:00:00Z","msg":"boom 1"}"# + "\n"

    @Test func badLinesAreCountedWithExamplesAndNeverStopTheScan() throws {
        var data = Data(good.utf8)
        data += Data(#"{"level":50,"msg":"truncated"#.utf8) + Data([0x0A])
        data += Data([0xFF, 0xFE, 0x00, 0x01, 0x7B, 0x80, 0x0A])                    // binary garbage
        data += Data(#"{"level":50,"msg":"bad \#u{0}"}"#.utf8) + Data([0x0A])
        data += Data(#"{"level":50,"msg":""#.utf8) + Data([0xC3, 0x28]) + Data(#""}"#.utf8) + Data([0x0A]) // invalid UTF-8
        data += Data("plain words in a json file\n".utf8)
        data += Data("\n   \n".utf8)                                                   // blank lines are ignored
        data += Data(good.utf8)
        let file = TempFile(data)
        let r = try analyze([file.path])
        #expect(r.matched == 2)
        #expect(r.errors == 2)
        #expect(r.unparsed == 5)
        #expect(r.lines == 7)
        #expect(r.unparsedExamples.count == 5)
        #expect(r.unparsedExamples.contains { $0.reason == "invalid UTF-8" })
        #expect(r.unparsedExamples.contains { $0.reason == "not a JSON object" })
        #expect(r.topFingerprints.first?.fingerprint == "boom <num>")
        #expect(r.topFingerprints.first?.count == 2)
    }

    /// Found by the fuzzer (issue 12): a bare `=` after a pair looped forever.
    @Test(arguments: ["level=error msg=x =a\n", "level=error msg=\"x\" =route=a\n", "a=b = = =\n", "level=warn msg=x ==\n"])
    func logfmtWithABareEqualsSignEnds(line: String) throws {
        let file = TempFile(Data(line.utf8))
        var o = LogAnalysisOptions()
        o.format = .logfmt
        o.workers = 1
        let r = try LogAnalyzer(o).analyze(paths: [file.path])
        #expect(r.lines == 1)
    }

    @Test func linesOverOneMegabyteAreUnparsed() throws {
        let huge = #"{"level":50,"msg":""# + String(repeating: "x", count: (1 << 20) + 10) + #""}"# + "\n"
        let file = TempFile(good + huge + good)
        let r = try analyze([file.path])
        #expect(r.matched == 2)
        #expect(r.unparsed == 1)
        #expect(r.unparsedExamples.first?.reason == "line longer than the limit")
        #expect(r.unparsedExamples.first?.text.count ?? 0 <= 256)
    }

    /// Lines longer than a whole buffer are skipped while streaming, not held in memory.
    @Test(arguments: [LogFormat.json, .plain])
    func linesLongerThanTheBufferAreSkipped(format: LogFormat) throws {
        let line = format == .json ? good : "2026-01-01T00:00:00Z ERROR boom 1\n"
        let huge = String(repeating: "y", count: 50_000) + "\n"
        let file = TempFile(line + huge + line + huge + huge + line)
        let r = try analyze([file.path]) { $0.maxLineBytes = 1000; $0.chunkBytes = 4096; $0.format = format }
        #expect(r.matched == 3)
        #expect(r.unparsed == 3)
        #expect(r.lines == 6)
        #expect(r.errors == 3)
    }

    @Test func pureBinaryFileIsAllUnparsed() throws {
        var bytes = [UInt8]()
        var x: UInt32 = 12345
        for _ in 0..<200_000 {
            x = x &* 1_103_515_245 &+ 12345
            bytes.append(UInt8(truncatingIfNeeded: x >> 16))
        }
        let file = TempFile(Data(bytes))
        let r = try analyze([file.path]) { $0.maxLineBytes = 10_000; $0.chunkBytes = 16_384 }
        #expect(r.matched + r.unparsed == r.lines)
        #expect(r.unparsed > 0)
    }

    @Test func crlfAndMissingFinalNewline() throws {
        let file = TempFile(#"{"level":40,"msg":"a"}"# + "\r\n" + #"{"level":50,"msg":"b"}"#)
        let r = try analyze([file.path])
        #expect(r.levels["warn"] == 1)
        #expect(r.levels["error"] == 1)
        #expect(r.unparsed == 0)
    }

    @Test func emptyAndMissingFiles() throws {
        let empty = TempFile("")
        let r = try analyze([empty.path])
        #expect(r.lines == 0)
        #expect(r.errorRate == 0)
        #expect(throws: LogAnalysisError.self) { try analyze(["/nonexistent/opsctl.log"]) }
    }

    @Test func corruptGzipIsReported() throws {
        let file = TempFile(String(repeating: good, count: 2_000))
        let gz = try file.gzipped()
        var data = try Data(contentsOf: URL(fileURLWithPath: gz.path))
        data = data.prefix(data.count / 2)
        let cut = TempFile(data, suffix: ".gz")
        #expect(throws: LogAnalysisError.self) { try analyze([cut.path]) }
    }
}
