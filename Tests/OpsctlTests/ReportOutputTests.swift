import Foundation
import Support
import Testing
import TestSupport

/// Human reports show every finding; TAP is read by the installed prove.
@Suite("Report output")
struct ReportOutputTests {
    @Test func lintListsEveryFindingGroupedByFile() throws {
        let p = Project()
        let a = try p.file("001_a.sql", "SET lock_timeout = '5s';\nSET statement_timeout = '5min';\nDROP TABLE one;\nDROP TABLE two;\n")
        let b = try p.file("002_b.sql", "SET lock_timeout = '5s';\nSET statement_timeout = '5min';\nDROP TABLE three;\n")
        let out = try p.opsctl(["migrate", "lint", a, b, "--no-journal"])
        #expect(out.exitCode == 1)
        #expect(!out.stdout.contains("first:"), "\(out.stdout)")
        let findings = out.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.contains("ban-drop-table") }
        #expect(findings.count == 3, "\(out.stdout)")
        #expect(findings[0].hasPrefix("\(a):3:"), "\(out.stdout)")
        #expect(findings[1].hasPrefix("\(a):4:"), "\(out.stdout)")
        #expect(findings[2].hasPrefix("\(b):3:"), "\(out.stdout)")
        #expect(findings.allSatisfy { $0.contains("error ban-drop-table drops table") && $0.contains(" → Stop using the table") })
    }

    @Test func logsInARunbookShowTheTopMessagesWithVerbose() throws {
        let p = Project()
        var log = ""
        for i in 0..<30 { log += #"{"level":"error","msg":"payment \#(i) failed: card declined","route":"/api/pay"}"# + "\n" }
        for i in 0..<5 { log += #"{"level":"error","msg":"timeout after \#(i) ms","route":"/api/sync"}"# + "\n" }
        try p.file("app.log", log)
        try p.file("logs.yaml", """
            steps:
              - { id: errors, kind: logs.analyze, with: { files: [app.log], by: route } }
            """)
        let quiet = try p.opsctl(["run", "logs.yaml", "--no-journal"])
        #expect(!quiet.stdout.contains("top messages:"))
        let out = try p.opsctl(["run", "logs.yaml", "--no-journal", "--verbose"])
        #expect(out.stdout.contains("top messages:"), "\(out.stdout)")
        #expect(out.stdout.contains("30× error"), "\(out.stdout)")
        #expect(out.stdout.contains("5× error"), "\(out.stdout)")
        #expect(out.stdout.contains("by route:") && out.stdout.contains("/api/pay 30 lines, 30 errors"), "\(out.stdout)")
    }

    @Test(arguments: ["human", "json", "junit", "tap"])
    func titlesAreInterpolatedInEveryFormat(format: String) throws {
        let p = Project()
        try p.file("t.yaml", """
            params: { batch: 500 }
            steps:
              - { id: purge, kind: pause, title: "delete in batches of ${params.batch}" }
            """)
        let out = try p.opsctl(["run", "t.yaml", "--no-journal", "--format", format, "--verbose"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stdout.contains("delete in batches of 500"), "\(out.stdout)")
        #expect(!out.stdout.contains("${params.batch}"), "\(out.stdout)")
    }

    /// `--format tap` by default is read by the prove installed here (Debian 12: Test::Harness 3.44).
    @Test func defaultTAPPassesTheInstalledProve() throws {
        let available = (try? ProcessRunner.run(["prove", "--version"], timeout: 60).exitCode) == 0
        if !available && ProcessInfo.processInfo.environment["CI"] != "true" {
            FileHandle.standardError.write(Data("SKIPPED prove check: prove is not installed (apt-get install perl)\n".utf8))
            return
        }
        let p = Project()
        try p.file("two.yaml", "steps:\n  - { id: a, kind: pause }\n  - { id: b, kind: pause, needs: a }\n")
        let out = try p.opsctl(["run", "two.yaml", "--no-journal", "--format", "tap", "--output", "run.tap"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        let tap = try String(contentsOfFile: p.dir.path + "/run.tap", encoding: .utf8)
        #expect(tap.hasPrefix("TAP version 13\n"))
        let prove = try ProcessRunner.run(["prove", "-v", "--exec", "cat", p.dir.path + "/run.tap"], timeout: 60)
        #expect(prove.exitCode == 0, "\(prove.stdout)\(prove.stderr)")
        #expect(prove.stdout.contains("All tests successful"), "\(prove.stdout)")
    }
}
