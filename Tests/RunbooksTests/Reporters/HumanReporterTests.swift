import Checks
import Foundation
import Runbooks
import Support
import Testing

/// The human report, snapshotted in Golden/ (durations and timestamps normalised).
/// Re-record with OPSCTL_RECORD_GOLDEN=1 after an intended change, then review the diff.
@Suite struct HumanReporterTests {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// `3ms`, `1.2s`, `3m05s` -> `<dur>`; `2026-11-18 11:06:40 UTC` -> `<time>`.
    static func normalise(_ text: String) -> String {
        text.replacing(#/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/#, with: "<time>")
            .replacing(#/([^\w.])(\d+m\d{2}s|\d+(?:\.\d+)?(?:ms|s))(?!\w)/#) { "\($0.1)<dur>" }
    }

    func assertGolden(_ name: String, _ actual: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if let problem = try Golden.mismatch(name, Self.normalise(actual), in: Self.goldenDirectory) {
            Issue.record(Comment(rawValue: problem), sourceLocation: sourceLocation)
        }
    }

    /// A missing golden file fails instead of being recorded (and passing) on the spot.
    @Test func aMissingGoldenFileFailsAndIsNotRecorded() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("opsctl-golden-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let problem = try Golden.mismatch("new.txt", "hello\n", in: directory, record: false)
        #expect(problem?.contains("is missing") == true, "\(problem ?? "no problem reported")")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("new.txt").path))
        #expect(try Golden.mismatch("new.txt", "hello\n", in: directory, record: true) == nil)
        #expect(try Golden.mismatch("new.txt", "hello\n", in: directory, record: false) == nil)
        let changed = try Golden.mismatch("new.txt", "goodbye\n", in: directory, record: false)
        #expect(changed?.contains("golden: hello") == true && changed?.contains("actual: goodbye") == true, "\(changed ?? "")")
    }

    @Test func matchesTheGoldenFile() throws {
        try assertGolden("human.txt", HumanReporter().render(ReportFixture.report))
    }

    @Test func verboseAndAbortedMatchTheGoldenFile() throws {
        var report = ReportFixture.report
        report.aborted = "interrupted (SIGINT) while running reconcile-dry"
        try assertGolden("human-verbose-aborted.txt", HumanReporter(options: ReporterOptions(verbose: true)).render(report))
    }

    @Test func passingRunSaysSoInOneGlance() {
        let text = HumanReporter().render(ReportFixture.passingReport)
        #expect(text.contains("PASSED WITH WARNINGS"))
        #expect(text.contains("passed after 2 attempts"))
        let strict = HumanReporter(options: ReporterOptions(strict: true)).render(ReportFixture.passingReport)
        #expect(strict.contains("FAILED (strict: warnings fail)"))
    }

    @Test func colourOnlyWhenAsked() {
        let plain = HumanReporter().render(ReportFixture.report)
        #expect(!plain.contains("\u{1B}"), "the shell step's own ANSI codes are stripped too")
        let coloured = HumanReporter(options: ReporterOptions(color: true)).render(ReportFixture.report)
        #expect(coloured.contains("\u{1B}[31m✖\u{1B}[0m"))
        #expect(coloured.contains("\u{1B}[32m✔\u{1B}[0m"))
        #expect(Self.stripColour(coloured) == plain)
    }

    @Test func everyStepHasOneLineWithItsSymbol() {
        let lines = HumanReporter().render(ReportFixture.report).split(separator: "\n").map(String.init)
        for (symbol, id) in [("✔", "[env]"), ("✔", "[db-connect]"), ("▲", "[db-size]"), ("✖", "[migrations]"),
                             ("‼", "[health]"), ("–", "[smoke]"), ("✖", "[reconcile-dry]")] {
            #expect(lines.contains { $0.hasPrefix("  \(symbol) ") && $0.contains(id) }, "\(symbol) \(id)")
        }
        #expect(lines.contains { $0.contains("[smoke]") && $0.contains("blocked by migrations, health") })
        #expect(lines.contains("      → opsctl migrate apply --env production (after checking `opsctl migrate status`)"))
        #expect(!lines.joined().contains(ReportFixture.canary))
    }

    static func stripColour(_ text: String) -> String {
        text.replacing(#/\x1B\[[0-9;]*m/#, with: "")
    }
}
