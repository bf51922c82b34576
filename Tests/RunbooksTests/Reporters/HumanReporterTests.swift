import Checks
import Foundation
import Runbooks
import Support
import Testing

/// The human report, snapshotted in Golden/ (durations and timestamps normalised).
/// Re-record with UPDATE_GOLDEN=1 after an intended change, then review the diff.
@Suite struct HumanReporterTests {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// `3ms`, `1.2s`, `3m05s` -> `<dur>`; `2026-11-18 11:06:40 UTC` -> `<time>`.
    static func normalise(_ text: String) -> String {
        text.replacing(#/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/#, with: "<time>")
            .replacing(#/([^\w.])(\d+m\d{2}s|\d+(?:\.\d+)?(?:ms|s))(?!\w)/#) { "\($0.1)<dur>" }
    }

    func assertGolden(_ name: String, _ actual: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = Self.goldenDirectory.appendingPathComponent(name)
        let normalised = Self.normalise(actual)
        let exists = FileManager.default.fileExists(atPath: file.path)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" || (!exists && !Consumer.onCI) {
            try FileManager.default.createDirectory(at: Self.goldenDirectory, withIntermediateDirectories: true)
            try normalised.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let golden = try String(contentsOf: file, encoding: .utf8)
        #expect(normalised == golden, "human output differs from Golden/\(name) (UPDATE_GOLDEN=1 re-records it)",
                sourceLocation: sourceLocation)
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
