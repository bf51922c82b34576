import Foundation
import Testing
@testable import LogAnalysis

/// Large plain files are scanned mapped; a file truncated under the mapping (logrotate's
/// copytruncate) must neither kill the process with SIGBUS nor lose the lines scanned before.
@Suite struct MappedInputTests {
    static let page = MappedFile.page

    /// A line start past a third of the text, early in its page (the scanner's reads of the line
    /// before it and of the zeros after the new end stay in that page until the fault).
    static func cut(in text: [UInt8]) -> Int {
        var i = text.count / 3
        while true {
            if text[i - 1] == 0x0A && i % page >= 64 && i % page < 1024 { return i }
            i += 1
        }
    }

    @Test func aTruncationStopsTheScanRightAfterTheLinesBeforeIt() throws {
        let bytes = Array(Corpus.pino(lines: 20_000).text.utf8)
        let file = TempFile(Data(bytes))
        let cut = Self.cut(in: bytes)
        let mapped = try #require(MappedFile(path: file.path, size: bytes.count))
        #expect(truncate(file.path, off_t(cut)) == 0)
        let options = LogAnalysisOptions(groupBy: "route", latencyField: "duration_ms")
        let json = JSONLines(groupBy: options.groupBy, latencyField: options.latencyField)
        let state = try ScanState(options: options)
        let tally = LineTally(json: json, state: state)
        state.begin(file: 0)
        let stopped = json.tallyMapped(UnsafeRawBufferPointer(start: mapped.base, count: bytes.count - MappedFile.tail),
                                       startOffset: 0, maxLine: options.maxLineBytes, tally: tally, state: state)
        state.end()
        #expect(stopped == cut)
        #expect(state.lines == bytes[..<cut].filter { $0 == 0x0A }.count)
        #expect(state.unparsed == 0)
        #expect(state.fingerprints.count > 0)
    }

    @Test func aFileTruncatedWhileItIsAnalysedKeepsWhatWasScanned() throws {
        let bytes = Array(Corpus.pino(lines: 40_000).text.utf8)
        let file = TempFile(Data(bytes))
        let cut = Self.cut(in: bytes)
        let fired = Fired()
        let path = file.path
        var options = LogAnalysisOptions(groupBy: "route", latencyField: "duration_ms", workers: 2, chunkBytes: 1 << 16)
        options.afterMappedSegment = { if fired.first() { _ = truncate(path, off_t(cut)) } }
        let report = try LogAnalyzer(options).analyze(paths: [path])
        #expect(fired.count > 0)
        // Every line before the cut is counted; lines past it only if a worker scanned them before it.
        let before = bytes[..<cut].filter { $0 == 0x0A }.count
        #expect(report.lines >= before)
        #expect(report.lines <= 40_000)
        #expect(report.unparsed == 0)
        #expect(report.files[0].bytes <= bytes.count)
    }

    @Test func mappedAndBufferedReadsGiveTheSameReport() throws {
        let file = TempFile(Corpus.pino(lines: 30_000).text)
        func run(chunk: Int) throws -> LogReport {
            try analyze([file.path], segmented(chunk: chunk, workers: 2))
        }
        // 4 MB chunks: the file is too small to map; 64 KB chunks: mapped but for the last 64 KB.
        ScannerCountingTests.expectSame(try run(chunk: 1 << 16), try run(chunk: 4 << 20))
    }

    final class Fired: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var count = 0
        func first() -> Bool { lock.withLock { count += 1; return count == 1 } }
    }
}
