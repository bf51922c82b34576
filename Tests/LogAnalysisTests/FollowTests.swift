import Foundation
import Testing
import TestSupport
@testable import LogAnalysis

/// `logs analyze --follow` in process, on real files: every line after a rotation or a truncation is
/// counted exactly once, and what the analyzer retains stays bounded however many lines pass.
@Suite struct FollowTests {
    /// A follower on its own thread, its interval reports collected.
    final class Run: @unchecked Sendable {
        let follower: LogFollower
        private let lock = NSLock()
        private var reports: [LogFollowSnapshot] = []
        private var result: Result<LogFollowSnapshot, Error>?
        private let done = DispatchSemaphore(value: 0)

        init(_ paths: [String], every: Double = 0.05, window: Double = 900, fromStart: Bool = true,
             thresholds: [String] = []) throws {
            var options = LogAnalysisOptions(workers: 1)
            options.thresholds = try thresholds.map { try LogThreshold($0) }
            follower = try LogFollower(paths: paths, options: options,
                                       follow: LogFollowOptions(every: every, window: window, fromStart: fromStart))
            Thread { [self] in
                let r = Result { try follower.run { s in self.lock.withLock { self.reports.append(s) }; return true } }
                lock.withLock { result = r }
                done.signal()
            }.start()
        }

        var latest: LogFollowSnapshot? { lock.withLock { reports.last } }

        /// Waits for a report whose total is `lines` (and gives the follower time to show a miscount).
        func waitFor(lines: Int) -> Bool {
            eventually(timeout: 30) { (latest?.linesTotal ?? -1) == lines }
        }

        func finish() throws -> LogFollowSnapshot {
            follower.stop("test over")
            done.wait()
            return try lock.withLock { result }!.get()
        }
    }

    static func append(_ path: String, _ lines: [String]) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(lines.map { $0 + "\n" }.joined().utf8))
    }

    static func lines(_ tag: String, _ n: Int, level: String = "info") -> [String] {
        (0..<n).map { #"{"level":"\#(level)","msg":"\#(tag) line \#($0)","time":"2026-11-29T10:00:00Z"}"# }
    }

    @Test func aRenamedAndRecreatedFileLosesNoLineAndCountsNoneTwice() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("app.log", Self.lines("first", 10).map { $0 + "\n" }.joined())
        let run = try Run([path])
        #expect(run.waitFor(lines: 10))
        try Self.append(path, Self.lines("before", 5, level: "error"))
        // logrotate's create mode: the file is renamed, a new one created at the path.
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        _ = try dir.write("app.log", "")
        try Self.append(path, Self.lines("after", 7, level: "error"))
        #expect(run.waitFor(lines: 22), "\(String(describing: run.latest?.linesTotal))")
        // A sentinel after everything: if anything were counted twice the total would pass it.
        try Self.append(path, Self.lines("sentinel", 1))
        #expect(run.waitFor(lines: 23))
        let final = try run.finish()
        #expect(final.linesTotal == 23)
        #expect(final.report.errors == 12)
        #expect(final.rotations == 1)
        #expect(final.truncations == 0)
    }

    @Test func aWriterStillOnTheRenamedFileIsReadUntilItReopens() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("app.log", "")
        let run = try Run([path])
        let writer = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try writer.write(contentsOf: Data(Self.lines("one", 4).map { $0 + "\n" }.joined().utf8))
        #expect(run.waitFor(lines: 4))
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        _ = try dir.write("app.log", "")
        try Self.append(path, Self.lines("new file", 3))
        // The service has not reopened its log yet: these still go to the renamed file.
        try writer.write(contentsOf: Data(Self.lines("late", 2).map { $0 + "\n" }.joined().utf8))
        try writer.close()
        #expect(run.waitFor(lines: 9), "\(String(describing: run.latest?.linesTotal))")
        let final = try run.finish()
        #expect(final.linesTotal == 9)
        #expect(final.rotations == 1)
    }

    @Test(arguments: [3, 40])
    func aTruncatedFileIsReadAgainFromItsStart(_ afterwards: Int) throws {
        // 40 lines after the truncation make the file longer than before it: only its changed first
        // bytes tell (copytruncate followed by a burst of writes before the follower looks).
        let dir = TemporaryDirectory()
        let path = try dir.write("app.log", Self.lines("old", 12).map { $0 + "\n" }.joined())
        let run = try Run([path])
        #expect(run.waitFor(lines: 12))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 0)
        try handle.close()
        try Self.append(path, Self.lines("new", afterwards, level: "error"))
        #expect(run.waitFor(lines: 12 + afterwards), "\(String(describing: run.latest?.linesTotal))")
        try Self.append(path, Self.lines("sentinel", 1))
        #expect(run.waitFor(lines: 13 + afterwards))
        let final = try run.finish()
        #expect(final.linesTotal == 13 + afterwards)
        #expect(final.report.errors == afterwards)
        #expect(final.truncations == 1)
        #expect(final.rotations == 0)
    }

    @Test func aFileThatAppearsLaterIsFollowedFromItsStart() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/later.log"
        let run = try Run([path], fromStart: false)
        #expect(eventually { run.latest?.waiting == [path] })
        _ = try dir.write("later.log", Self.lines("x", 3).map { $0 + "\n" }.joined())
        #expect(run.waitFor(lines: 3))
        #expect(try run.finish().waiting.isEmpty)
    }

    @Test func twoMillionLinesOfDistinctErrorsKeepTheRetainedStateBounded() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("flood.log", "")
        let run = try Run([path], every: 0.5)
        // Two million error lines, each with its own fingerprint (letters: digits would be normalised away).
        func word(_ n: Int) -> String {
            var n = n, s = ""
            repeat { s.append(Character(UnicodeScalar(UInt8(97 + n % 26)))); n /= 26 } while n > 0
            return s
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        var maxRetained = 0
        for batch in 0..<40 {
            var chunk = ""
            for i in 0..<50_000 { chunk += #"{"level":"error","msg":"cannot reach upstream \#(word(batch * 50_000 + i))"}"# + "\n" }
            try handle.write(contentsOf: Data(chunk.utf8))
            maxRetained = max(maxRetained, run.latest?.retainedEntries ?? 0)
        }
        try handle.close()
        // Stopping reads the file to its end first: the final report holds every line.
        let final = try run.finish()
        maxRetained = max(maxRetained, final.retainedEntries)
        #expect(final.linesTotal == 2_000_000)
        #expect(final.report.errors == 2_000_000)
        #expect(final.report.distinctFingerprints <= 10 * 1_000, "capped per slice")
        // Ten slices, each holding at most its capped fingerprint table plus a few windows and samples.
        #expect(maxRetained <= SlidingWindow.slices * 1_100, "retained \(maxRetained) entries")
        #expect(final.report.fingerprintsCapped)
    }

    @Test func linesOlderThanTheWindowRotateOut() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("w.log", Self.lines("err", 5, level: "error").map { $0 + "\n" }.joined())
        let run = try Run([path], every: 0.05, window: 1, thresholds: ["errors>=5:fail"])
        #expect(eventually { run.latest?.report.errors == 5 })
        #expect(run.latest?.report.status == .fail)
        // A second later the errors have left the one-second window; the total still counts them.
        #expect(eventually(timeout: 30) { run.latest?.report.errors == 0 })
        let final = try run.finish()
        #expect(final.report.status == .ok)
        #expect(final.linesTotal == 5)
    }
}
