import Checks
import Foundation
import Runbooks
import Support
import TestSupport
import Testing

/// Writing reports: secrets masked in every format, files replaced atomically, clear errors.
@Suite struct ReportWriterTests {
    @Test(arguments: OutputFormat.allCases)
    func theSecretNeverReachesTheFile(format: OutputFormat) throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/report.\(format.rawValue)"
        let reporter = format.makeReporter(options: ReporterOptions(color: true, verbose: true))
        let report = ReportFixture.report
        try ReportWriter(output: path).write(reporter.render(report))
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!written.isEmpty)
        #expect(!written.contains(ReportFixture.canary), "\(format) leaked the secret")

        // The streaming path (hooks -> sink -> finish) too.
        let streamed = directory.path + "/streamed.\(format.rawValue)"
        let writer = ReportWriter(output: streamed)
        let sink = writer.sink
        reporter.runStarted(runbook: report.runbook, environment: report.environment, runID: report.runID, sink: sink)
        for result in report.results {
            reporter.stepStarted(id: result.id, title: result.title, kind: result.kind, sink: sink)
            reporter.stepFinished(result, sink: sink)
        }
        reporter.runFinished(report, sink: sink)
        try writer.finish()
        #expect(!(try String(contentsOfFile: streamed, encoding: .utf8)).contains(ReportFixture.canary))
    }

    @Test func masksEvenTextNoReporterMasked() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/raw.txt"
        SecretMasker.shared.register(ReportFixture.canary)
        try ReportWriter(output: path).write("token=\(ReportFixture.canary) url=postgres://u:hunter2@db/x\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "token=**** url=postgres://u:****@db/x\n")
    }

    @Test func replacesAtomicallyAndLeavesNoTempFiles() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/opsctl.prom"
        try "old\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o640)
        try ReportWriter(output: path).write("new\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["opsctl.prom"])
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o640, "an existing report keeps its mode")
    }

    @Test func aStreamedFileAppearsOnlyWhenFinished() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/run.jsonl"
        let writer = ReportWriter(output: path)
        writer.append("{\"event\":\"run_started\"}\n")
        #expect(!FileManager.default.fileExists(atPath: path))
        writer.append("{\"event\":\"run_finished\"}\n")
        try writer.finish()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"event\":\"run_started\"}\n{\"event\":\"run_finished\"}\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["run.jsonl"])
    }

    @Test func aMissingDirectoryIsAClearError() throws {
        let path = "/nonexistent-opsctl-dir/reports/verify.xml"
        let error = try #require(throws: ReportWriterError.self) { try ReportWriter(output: path).write("x") }
        #expect(error.description.contains(path))
        #expect(error.description.contains("check that the directory '/nonexistent-opsctl-dir/reports' exists"))
        #expect(throws: ReportWriterError.self) { try ReportWriter(output: path).validate() }
    }

    @Test func aFileInThePathOrADirectoryTargetIsAClearError() throws {
        let directory = TemporaryDirectory()
        let file = try directory.write("plain.txt", "x")
        let underFile = try #require(throws: ReportWriterError.self) { try ReportWriter(output: file + "/report.xml").write("x") }
        #expect(underFile.description.contains(file + "/report.xml"))
        #expect(underFile.description.contains("is a file, not a directory"))
        let isDirectory = try #require(throws: ReportWriterError.self) { try ReportWriter(output: directory.path).write("x") }
        #expect(isDirectory.description.contains("is a directory: give a file name to --output"))

        let streaming = ReportWriter(output: file + "/run.jsonl")
        streaming.append("{}\n")
        #expect(throws: ReportWriterError.self) { try streaming.finish() }
    }

    @Test func dashMeansStandardOutput() {
        #expect(ReportWriter(output: "-").destination == .standardOutput)
        #expect(ReportWriter(output: nil).destination == .standardOutput)
        #expect(ReportWriter(output: "r.xml").destination == .file("r.xml"))
    }
}

/// `--output /dev/null` (or a FIFO) is written in place: renaming a temp file over it replaced
/// /dev/null with a regular file when opsctl ran as root. A FIFO in a temp directory stands in
/// for the device, so a regression cannot damage the machine's /dev/null.
@Suite struct SpecialOutputTests {
    @Test func aFIFOStaysAFIFOAndReceivesTheReport() throws {
        let dir = TemporaryDirectory()
        let fifo = dir.path + "/report.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/sh")
        reader.arguments = ["-c", "cat \"$0\" > \"$1\"", fifo, dir.path + "/captured"]
        try reader.run()
        let writer = ReportWriter(output: fifo)
        try writer.write("TAP version 13\n1..0\n")
        var info = stat()
        #expect(stat(fifo, &info) == 0)
        let stillFIFO = (info.st_mode & S_IFMT) == S_IFIFO
        #expect(stillFIFO, "the FIFO was replaced by a file")
        if !stillFIFO { reader.terminate() } // its open() would wait for a writer forever
        reader.waitUntilExit()
        #expect(try String(contentsOfFile: dir.path + "/captured", encoding: .utf8) == "TAP version 13\n1..0\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }
}
