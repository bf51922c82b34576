import Foundation
import Testing
@testable import LogAnalysis

@Suite struct GroundTruthTests {
    static let corpus = Corpus.pino(lines: 3_000)

    /// Small chunks and two workers force many segments and a real merge.
    @Test(arguments: [(4 << 20, 1), (4096, 2), (1500, 3)])
    func answersEqualTheTruth(chunk: Int, workers: Int) throws {
        let c = Self.corpus
        let file = TempFile(c.text)
        let r = try analyze([file.path], segmented(chunk: chunk, workers: workers))
        try check(r, against: c)
    }

    /// The scanner's portable (SSE2) line walk, which CPUs without AVX2 run.
    @Test func portableWalkAnswersEqualTheTruth() throws {
        let c = Self.corpus
        let file = TempFile(c.text)
        let r = try analyze([file.path]) {
            segmented(chunk: 4096, workers: 2)(&$0)
            $0.portableScanner = true
        }
        try check(r, against: c)
    }

    @Test func gzipInputGivesTheSameAnswers() throws {
        let c = Self.corpus
        let file = TempFile(c.text)
        let gz = try file.gzipped()
        let r = try analyze([gz.path]) {
            $0.top = 100
            $0.window = 60
            $0.groupBy = "route"
            $0.latencyField = "duration_ms"
            $0.chunkBytes = 8192
        }
        #expect(r.files.first?.compressed == true)
        try check(r, against: c)
    }

    /// The input is opened with a 64 KB sniff; a compressed stream longer than that goes on with full
    /// staging reads from where the sniff stopped.
    @Test func gzipLongerThanTheSniffGivesTheSameAnswers() throws {
        let c = Corpus.pino(lines: 20_000)
        let file = TempFile(c.text)
        let gz = try file.gzipped()
        let compressed = try #require(try FileManager.default.attributesOfItem(atPath: gz.path)[.size] as? Int)
        #expect(compressed > 2 * InputReader.sniffBytes)
        let r = try analyze([gz.path]) {
            $0.top = 100
            $0.window = 60
            $0.groupBy = "route"
            $0.latencyField = "duration_ms"
        }
        #expect(r.files.first?.compressed == true)
        try check(r, against: c)
    }

    func check(_ r: LogReport, against c: Corpus) throws {
        #expect(r.lines == c.lines)
        #expect(r.matched == c.lines)
        #expect(r.unparsed == 0)
        for (name, n) in c.levels { #expect(r.levels[name] == n, "level \(name)") }
        #expect(r.errors == c.errors)
        #expect(abs(r.errorRate - Double(c.errors) / Double(c.lines) * 100) < 1e-9)
        #expect(Dictionary(uniqueKeysWithValues: r.topFingerprints.map { ($0.fingerprint, $0.count) }) == c.fingerprints)
        #expect(!r.fingerprintsCapped)
        var windows: [Int64: Int] = [:]
        for w in r.windows where w.count > 0 { windows[Int64((w.start.timeIntervalSince1970 * 1000).rounded())] = w.count }
        #expect(windows == c.windows)
        #expect(r.windowSeconds == 60)
        let groups = Dictionary(uniqueKeysWithValues: r.groups.map { ($0.value, $0.count) })
        #expect(groups == c.routes.mapValues(\.count))
        #expect(Dictionary(uniqueKeysWithValues: r.groups.map { ($0.value, $0.errors) }) == c.routes.mapValues(\.errors))
        let l = try #require(r.latency)
        #expect(l.exact)
        #expect(l.count == c.lines)
        #expect(l.p50 == c.quantile(0.5))
        #expect(l.p95 == c.quantile(0.95))
        #expect(l.p99 == c.quantile(0.99))
        #expect(r.firstSeen == Date(timeIntervalSince1970: Double(Corpus.start) / 1000))
        // The example of a fingerprint is its earliest line, whatever worker saw it.
        let payment = try #require(r.topFingerprints.first { $0.fingerprint.hasPrefix("payment failed") })
        #expect(payment.example.contains("user2@example.com"))
        #expect(payment.firstSeen != nil && payment.lastSeen != nil && payment.firstSeen! <= payment.lastSeen!)
    }

    @Test func filtersByTimeLevelAndRegex() throws {
        let c = Self.corpus
        let file = TempFile(c.text)
        // Half-open range [from, to): the first 10 minutes.
        let from = Date(timeIntervalSince1970: Double(Corpus.start) / 1000)
        let r = try analyze([file.path]) { $0.from = from; $0.to = from.addingTimeInterval(600) }
        let expected = c.windows.filter { $0.key < Corpus.start + 600_000 }.values.reduce(0, +)
        #expect(r.matched == expected)
        #expect(r.filteredOut == c.lines - expected)

        let errorsOnly = try analyze([file.path]) { $0.minLevel = .error }
        #expect(errorsOnly.matched == c.errors)
        #expect(errorsOnly.errorRate == 100)

        let grep = try analyze([file.path]) { $0.grep = "webhooks/stripe" }
        #expect(grep.matched == c.routes["/webhooks/stripe"]!.count)

        let since = try analyze([file.path]) { $0.since = 3_600; $0.now = from.addingTimeInterval(3 * 3_600) }
        #expect(since.matched == c.windows.filter { $0.key >= Corpus.start + 2 * 3_600_000 }.values.reduce(0, +))
    }

    @Test func automaticWindowsStayUnderTheLimit() throws {
        let file = TempFile(Self.corpus.text)
        let r = try analyze([file.path]) { $0.maxWindows = 30 }
        #expect(r.windows.count <= 30)
        #expect(r.windows.map(\.count).reduce(0, +) == Self.corpus.lines)
        #expect(WindowCounter.ladder.contains(Int64(r.windowSeconds)))
    }

    @Test func cappedTableIsFlagged() throws {
        var text = ""
        for i in 0..<500 { text += #"{"level":50,"msg":"error kind\#(String(UnicodeScalar(UInt8(65 + i % 26))))\#(String(UnicodeScalar(UInt8(65 + i / 26))))"}"# + "\n" }
        for _ in 0..<100 { text += #"{"level":50,"msg":"the frequent one"}"# + "\n" }
        let file = TempFile(text)
        let r = try analyze([file.path]) { $0.tableCap = 64; $0.top = 1 }
        #expect(r.fingerprintsCapped)
        #expect(r.distinctFingerprints <= 64)
        #expect(r.topFingerprints.first?.fingerprint == "the frequent one")
        #expect(r.topFingerprints.first?.count == 100)
    }
}

@Suite struct WindowCounterTests {
    /// Days of logs at a fine cadence make the automatic width coarsen while scanning.
    @Test func coarseningWhileCountingKeepsEveryLineInItsWindow() {
        var w = WindowCounter(widthSeconds: nil)
        let start: Int64 = 1_767_225_600_000
        let n = 300_000
        for i in 0..<n { w.add(start + Int64(i) * 1_000, error: i % 10 == 0) }
        let (width, windows) = w.finish(maxWindows: 60)
        #expect(windows.count <= 60)
        #expect(windows.map(\.count).reduce(0, +) == n)
        #expect(windows.map(\.errors).reduce(0, +) == n / 10)
        #expect(width == 10_800)
    }
}

extension WindowCounterTests {
    /// An explicit width too fine for the span is coarsened exactly (and reported), not kept unbounded.
    @Test func explicitWidthIsCoarsenedWhenItWouldNeedTooManyWindows() {
        var w = WindowCounter(widthSeconds: 7)
        let n = 200_000
        for i in 0..<n { w.add(Int64(i) * 1_000, error: false) }
        let (width, windows) = w.finish(maxWindows: 60)
        #expect(width > 7 && Int(width) % 7 == 0)
        #expect(windows.map(\.count).reduce(0, +) == n)
        #expect(windows.count <= WindowCounter.maxKept)
    }
}
