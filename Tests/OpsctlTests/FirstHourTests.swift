import Foundation
import Support
import Testing
import TestSupport

/// What a user hits in the first hour (issue 13, item 8): listings, help, history, config errors.
@Suite("First hour")
struct FirstHourTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    @Test func runbooksListsEveryShippedRunbookAsValid() throws {
        let out = try Project().opsctl(["runbooks"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(!out.stdout.contains("invalid"), "\(out.stdout)")
        #expect(out.stdout.contains("logs "), "the logs runbook (param 'files' is required) is listed")
    }

    /// The README's list of kinds names exactly what `opsctl kinds` prints.
    @Test func theReadmeListsEveryKind() throws {
        let out = try Project().opsctl(["kinds"])
        #expect(out.exitCode == 0)
        let kinds = Set(out.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
        #expect(kinds.count > 20)
        let readme = try String(contentsOf: Self.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "### Step kinds").dropFirst().first?.components(separatedBy: "\n## ").first)
        let listed = Set(section.components(separatedBy: "`").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
            .filter { $0.range(of: #"^[a-z_]+(\.[a-z_]+)?$"#, options: .regularExpression) != nil })
        #expect(kinds.subtracting(listed).isEmpty, "missing from the README: \(kinds.subtracting(listed).sorted())")
        let unknown = listed.subtracting(kinds).filter { $0.contains(".") || ["shell", "pause", "confirm", "wait_for", "runbook"].contains($0) }
        #expect(unknown.isEmpty, "in the README but not a kind: \(unknown.sorted())")
    }

    @Test func weeklySaysWhatItRuns() throws {
        let text = try String(contentsOf: Self.repositoryRoot.appendingPathComponent("runbooks/weekly.yaml"), encoding: .utf8)
        let description = try #require(text.split(separator: "\n").first { $0.hasPrefix("description:") })
        #expect(!description.contains("migration") && !description.contains("certificate"), "\(description)")
        #expect(!text.contains("kind: migrations.") && !text.contains("kind: tls."))
    }

    @Test func historyOffersOnlyItsOwnFlagsAndShowsWholeStatuses() throws {
        let p = Project()
        let help = try p.opsctl(["history", "--help"])
        for flag in ["--confirm", "--parallel", "--dry-run", "--deadline"] {
            #expect(!help.stdout.contains(flag), "history --help offers \(flag)")
        }
        #expect(try p.opsctl(["history", "--dry-run"]).exitCode == 64)
        try p.file("one.yaml", "steps:\n  - { id: change, kind: shell, with: { command: 'true' } }\n")
        #expect(try p.opsctl(["run", "one.yaml", "--dry-run"]).exitCode == 0)
        let history = try p.opsctl(["history"])
        #expect(history.exitCode == 0, "\(history.stderr)")
        // The mutating step was skipped by the dry run: the status column keeps the whole word.
        #expect(history.stdout.contains("skipped (dry run)"), "\(history.stdout)")
    }

    @Test func aConfigReferenceInAParamDefaultIsALocatedError() throws {
        let p = Project()
        try p.file("bad.yaml", """
            params:
              limit: { type: int, default: "${config.thresholds.limit}" }
            steps:
              - { id: a, kind: pause }
            """)
        let out = try p.opsctl(["explain", "bad.yaml"])
        #expect(out.exitCode == 65)
        #expect(out.stderr.contains("bad.yaml:2:"), "\(out.stderr)")
        #expect(out.stderr.contains("${config.thresholds.limit} is not resolved there"), "\(out.stderr)")
        try p.file("retry.yaml", """
            steps:
              - id: a
                kind: pause
                retry: { attempts: "${config.thresholds.tries}" }
            """)
        let retry = try p.opsctl(["explain", "retry.yaml"])
        #expect(retry.exitCode == 65)
        #expect(retry.stderr.contains("retry.yaml:4:"), "\(retry.stderr)")
    }

    @Test func explainFindsAThresholdMissingInOneEnvironment() throws {
        let p = Project()
        try p.file("opsctl.yaml", """
            environments:
              local: { thresholds: { backlog: 10 } }
              production: { protected: true, thresholds: {} }
            """)
        try p.file("backlog.yaml", """
            steps:
              - id: backlog
                kind: sql.query
                with: { sql: "SELECT 1 AS n", thresholds: { n: { warn: "${config.thresholds.backlog}" } } }
            """)
        let out = try p.opsctl(["explain", "backlog.yaml"])
        #expect(out.exitCode == 65, "\(out.stdout)")
        #expect(out.stderr.contains("backlog.yaml:2:"), "\(out.stderr)")
        #expect(out.stderr.contains("${config.thresholds.backlog}") && out.stderr.contains("'production'"), "\(out.stderr)")
        #expect(!out.stderr.contains("'local'"))
        try p.file("fallback.yaml", """
            steps:
              - id: backlog
                kind: sql.query
                with: { sql: "SELECT 1 AS n", thresholds: { n: { warn: "${config.thresholds.backlog:-10}" } } }
            """)
        #expect(try p.opsctl(["explain", "fallback.yaml"]).exitCode == 0)
    }

    /// Relative log files resolve from opsctl.yaml's directory, wherever opsctl is started.
    @Test func logFilesResolveFromTheConfigDirectory() throws {
        let p = Project()
        try p.file("project/opsctl.yaml", "environments:\n  local: {}\n")
        try p.file("project/logs/api.log", #"{"level":"error","msg":"boom"}"# + "\n" + #"{"level":"info","msg":"fine"}"# + "\n")
        try p.file("elsewhere/.keep", "")
        let out = try Opsctl.run(["run", "logs", "--config", p.dir.path + "/project/opsctl.yaml", "--param", "files=logs/api.log",
                                  "--no-journal", "--format", "json"],
                                 env: p.env, directory: p.dir.path + "/elsewhere")
        #expect(!out.stdout.contains("no log file") && !out.stdout.contains("No such file"), "\(out.stdout)")
        #expect(out.stdout.contains("\"lines\""), "\(out.stdout)")
    }

    @Test func helpParagraphsAreNotHardWrapped() throws {
        let out = try Project().opsctl(["health", "--help"])
        // One paragraph, wrapped by ArgumentParser at 80 columns: no line ends mid-sentence before column 60.
        let lines = out.stdout.components(separatedBy: "\n\n")[1].split(separator: "\n")
        #expect(lines.dropLast().allSatisfy { $0.count > 60 }, "\(lines)")
    }
}
