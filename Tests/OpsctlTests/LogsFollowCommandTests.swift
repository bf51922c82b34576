import Foundation
import Testing
import TestSupport

/// `opsctl logs analyze --follow` as a real process: reports stream as lines arrive, --exit-on-fail
/// exits 1 naming the threshold, stdin is followed through a pipe to its end, a signal ends the follow
/// with a final report, and two million lines leave the process's memory bounded.
@Suite(.serialized)
struct LogsFollowCommandTests {
    /// opsctl started with pipes; stdout collected line by line as it comes.
    final class Follow: @unchecked Sendable {
        let process = Process()
        let input = Pipe()
        private let output = Pipe()
        private let lock = NSLock()
        private var text = ""
        private let reader = DispatchGroup()

        init(_ args: [String]) throws {
            process.executableURL = URL(fileURLWithPath: Opsctl.binary)
            process.arguments = args
            var e = ProcessInfo.processInfo.environment
            e["NO_COLOR"] = "1"
            process.environment = e
            process.standardInput = input
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let handle = output.fileHandleForReading
            reader.enter()
            Thread { [self] in
                while true {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    lock.withLock { text += String(decoding: data, as: UTF8.self) }
                }
                reader.leave()
            }.start()
        }

        var stdout: String { lock.withLock { text } }

        /// The JSONL reports printed so far.
        var reports: [[String: Any]] {
            stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }

        func finish() -> Int32 {
            process.waitUntilExit()
            reader.wait()
            return process.terminationStatus
        }
    }

    static func errors(_ report: [String: Any]) -> Int? { (report["report"] as? [String: Any])?["errors"] as? Int }

    static func append(_ path: String, _ text: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    @Test func errorsAppendedToAFollowedFileUpdateTheReportAndExitOnFailNamesTheThreshold() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("api.log", #"{"level":30,"msg":"started"}"# + "\n")
        let follow = try Follow(["logs", "analyze", path, "--follow", "--from-start", "--every", "200ms", "--format", "jsonl",
                                 "--threshold", "errors>=3:fail", "--exit-on-fail"])
        #expect(eventually(timeout: 30) { follow.reports.contains { ($0["lines_total"] as? Int) == 1 } }, "\(follow.stdout)")
        try Self.append(path, #"{"level":50,"msg":"payment webhook rejected"}"# + "\n")
        #expect(eventually(timeout: 30) { follow.reports.contains { Self.errors($0) == 1 } }, "the report updates: \(follow.stdout)")
        try Self.append(path, String(repeating: #"{"level":50,"msg":"payment webhook rejected"}"# + "\n", count: 2))
        #expect(follow.finish() == 1, "\(follow.stdout)")
        let final = try #require(follow.reports.last)
        #expect((final["ended"] as? String ?? "").contains("errors>=3:fail"), "\(final)")
        #expect(Self.errors(final) == 3)
        #expect(final["status"] as? String == "fail")
    }

    @Test func stdinIsFollowedThroughAPipeToItsEnd() throws {
        let follow = try Follow(["logs", "analyze", "-", "--follow", "--every", "100ms", "--format", "jsonl"])
        let writer = follow.input.fileHandleForWriting
        try writer.write(contentsOf: Data("level=info msg=one\nlevel=error msg=\"db down\"\n".utf8))
        #expect(eventually(timeout: 30) { follow.reports.contains { Self.errors($0) == 1 } }, "\(follow.stdout)")
        try writer.write(contentsOf: Data("level=error msg=\"db down\"\nlevel=info msg=two".utf8))   // the last without newline
        try writer.close()
        #expect(follow.finish() == 0, "\(follow.stdout)")
        let final = try #require(follow.reports.last)
        #expect(final["ended"] as? String == "end of input")
        #expect(final["lines_total"] as? Int == 4)
        #expect(Self.errors(final) == 2)
    }

    @Test func sigtermEndsTheFollowWithAFinalReportAndExitTwo() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("quiet.log", "")
        let follow = try Follow(["logs", "analyze", path, "--follow", "--every", "100ms"])
        #expect(eventually(timeout: 30) { follow.stdout.contains("== follow:") })
        kill(follow.process.processIdentifier, SIGTERM)
        #expect(follow.finish() == 2)
        #expect(follow.stdout.contains("ended: interrupted by SIGTERM"), "\(follow.stdout)")
    }

    @Test func forEndsTheFollowAndTheWorstStateDecidesTheExit() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("a.log", "ERROR boom\nERROR boom\n")
        let out = try Opsctl.run(["logs", "analyze", path, "--follow", "--from-start", "--every", "100ms", "--for", "1s",
                                  "--threshold", "errors>=2:fail"])
        #expect(out.exitCode == 1, "\(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("ended: ran for 1 s"), "\(out.stdout)")
    }

    @Test(arguments: [["--every", "5s"], ["--exit-on-fail"], ["--follow", "--every", "0s"], ["--follow", "--last", "soon"]])
    func followFlagsWithoutFollowOrWithBadDurationsAreUsageErrors(_ flags: [String]) throws {
        let out = try Opsctl.run(["logs", "analyze", "x.log"] + flags)
        #expect(out.exitCode == 64, "\(flags): \(out.stderr)")
    }

    @Test func twoMillionLinesThroughStdinLeaveMemoryBounded() throws {
        let follow = try Follow(["logs", "analyze", "-", "--follow", "--every", "1s", "--format", "jsonl"])
        let writer = follow.input.fileHandleForWriting
        func word(_ n: Int) -> String {
            var n = n, s = ""
            repeat { s.append(Character(UnicodeScalar(UInt8(97 + n % 26)))); n /= 26 } while n > 0
            return s
        }
        for batch in 0..<40 {
            var chunk = ""
            for i in 0..<50_000 { chunk += "level=error msg=\"cannot reach \(word(batch * 50_000 + i))\" route=/r/\(word(i))\n" }
            try writer.write(contentsOf: Data(chunk.utf8))
        }
        try writer.close()
        #expect(follow.finish() == 0)
        let final = try #require(follow.reports.last, "\(follow.stdout)")
        #expect(final["lines_total"] as? Int == 2_000_000)
        #expect((final["retained_entries"] as? Int ?? .max) <= 11_000, "\(final["retained_entries"] ?? "none")")
        // Two million distinct fingerprints held would take gigabytes; the bound is the capped tables.
        let rss = try #require(final["peak_rss_bytes"] as? Int)
        #expect(rss < 256 << 20, "peak RSS \(rss >> 20) MiB")
    }
}
