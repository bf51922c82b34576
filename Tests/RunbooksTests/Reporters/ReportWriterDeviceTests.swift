import Foundation
import Runbooks
import TestSupport
import Testing

/// `--output` naming a device or a pipe is written in place, never replaced: an atomic rename over
/// /dev/null, run as root, turned the machine's /dev/null into a regular file.
@Suite struct ReportWriterDeviceTests {
    /// Reads a FIFO to its end on another thread (opening a FIFO for writing blocks until a reader opens it).
    final class Reader: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var text = ""
        init(_ path: String) {
            Thread.detachNewThread { [self] in
                text = (FileHandle(forReadingAtPath: path).flatMap { try? $0.readToEnd() }).map { String(decoding: $0, as: UTF8.self) } ?? ""
                done.signal()
            }
        }
    }

    /// A FIFO in a temporary directory (kept alive by the returned directory).
    func fifo() throws -> (TemporaryDirectory, String) {
        let directory = TemporaryDirectory()
        let path = directory.path + "/report.fifo"
        try #require(mkfifo(path, 0o600) == 0)
        return (directory, path)
    }

    static func isFIFO(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO
    }

    @Test func aWholeDocumentGoesThroughAPipeWhichStaysAPipe() throws {
        let (directory, path) = try fifo()
        let reader = Reader(path)
        try ReportWriter(output: path).write("OPSCTL OK - report through a pipe\n")
        #expect(reader.done.wait(timeout: .now() + 30) == .success)
        #expect(reader.text == "OPSCTL OK - report through a pipe\n")
        #expect(Self.isFIFO(path), "the FIFO was replaced by a file")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(leftovers == ["report.fifo"], "no temp file beside it: \(leftovers)")
    }

    @Test func aStreamedReportGoesThroughAPipeWhichStaysAPipe() throws {
        let (directory, path) = try fifo()
        let reader = Reader(path)
        let writer = ReportWriter(output: path)
        try writer.validate()
        writer.append("{\"event\":\"run_started\"}\n")
        writer.append("{\"event\":\"run_finished\"}\n")
        try writer.finish()
        #expect(reader.done.wait(timeout: .now() + 30) == .success)
        #expect(reader.text == "{\"event\":\"run_started\"}\n{\"event\":\"run_finished\"}\n")
        #expect(Self.isFIFO(path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["report.fifo"])
    }
}
