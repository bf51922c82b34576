import Foundation
import Testing
@testable import LogAnalysis

/// `--since`/`--from` on a time-ordered file find their first line by binary search: the bytes before
/// it are never read, and the answers are those of a full scan.
@Suite struct TimeSeekTests {
    /// 20,000 lines one second apart (about 2 MB): the last 1,000 are at or after `from`.
    static let corpus = Corpus.pino(lines: 20_000, stepMs: 1_000)
    static let from = Date(timeIntervalSince1970: Double(Corpus.start) / 1000 + 19_000)

    @Test func fromSkipsTheOlderPartOfAnOrderedFile() throws {
        let file = TempFile(Self.corpus.text)
        let r = try analyze([file.path]) { $0.from = Self.from }
        #expect(r.matched == 1_000)
        let f = try #require(r.files.first)
        #expect(f.skippedBytes > Self.corpus.text.utf8.count * 8 / 10)
        #expect(f.probedBytes <= 30 * TimeSeek.blockBytes)
        #expect(f.skippedBytes + f.bytes == Self.corpus.text.utf8.count)
        // What is read before the bound is filtered as usual: the slack and at most one block.
        #expect(r.lines - r.matched == r.filteredOut)
        #expect(r.firstSeen == Self.from)
    }

    @Test func sinceIsRelativeToNow() throws {
        let file = TempFile(Self.corpus.text)
        let r = try analyze([file.path]) {
            $0.now = Date(timeIntervalSince1970: Double(Corpus.start) / 1000 + 20_000)
            $0.since = 900
        }
        #expect(r.matched == 900)
        #expect((r.files.first?.skippedBytes ?? 0) > 0)
    }

    @Test func anUnorderedFileIsReadWhole() throws {
        let lines = Self.corpus.text.split(separator: "\n").reversed().joined(separator: "\n") + "\n"
        let file = TempFile(lines)
        let r = try analyze([file.path]) { $0.from = Self.from }
        #expect(r.matched == 1_000)
        #expect(r.files.first?.skippedBytes == 0)
        #expect(r.lines == 20_000)
    }

    @Test func plainTextLinesAreSearchedByTheirTimestamp() throws {
        var text = ""
        let formatter = ISO8601DateFormatter()
        for i in 0..<20_000 {
            let t = Date(timeIntervalSince1970: Double(Corpus.start) / 1000 + Double(i))
            text += "\(formatter.string(from: t)) \(i % 10 == 0 ? "ERROR" : "INFO") request \(i) handled by worker \(i % 7)\n"
        }
        let file = TempFile(text)
        let r = try analyze([file.path]) { $0.from = Self.from }
        #expect(r.files.first?.format == .plain)
        #expect(r.matched == 1_000)
        #expect(r.errors == 100)
        #expect((r.files.first?.skippedBytes ?? 0) > text.utf8.count / 2)
    }

    @Test func aCompressedFileIsReadWhole() throws {
        let file = TempFile(Self.corpus.text)
        let gz = try file.gzipped()
        let r = try analyze([gz.path]) { $0.from = Self.from }
        #expect(r.matched == 1_000)
        #expect(r.files.first?.skippedBytes == 0)
    }

    /// Many small segments and one large one: the same answers.
    @Test func smallAndLargeChunksAgree() throws {
        let file = TempFile(Self.corpus.text)
        let mapped = try analyze([file.path]) { $0.chunkBytes = 64 << 10; $0.latencyField = "duration_ms"; $0.groupBy = "route" }
        let buffered = try analyze([file.path]) { $0.chunkBytes = 8 << 20; $0.latencyField = "duration_ms"; $0.groupBy = "route" }
        #expect(mapped == buffered)
        #expect(mapped.lines == 20_000)
        #expect(mapped.latency?.exact == true)
        #expect(mapped.latency?.p95 == Self.corpus.quantile(0.95))
    }
}
