import Foundation
import Testing
import TestSupport

/// Issue 12 items 2, 7, 15 and 17 through the real CLI: wrong values are exit 65 (files, with
/// file:line:col) or 64 (flags, naming the flag), never a silent default, a trap or a raw Foundation error.
@Suite("Strict input through the CLI")
struct StrictInputTests {
    @Test(arguments: ["enabled", "maybe", "2", "[production]"])
    func aBadProtectedValueNeverRollsBack(value: String) throws {
        let p = Project()
        try p.file("opsctl.yaml", "environments:\n  production:\n    protected: \(value)\n    migrations: { dir: migrations }\n")
        try p.file("migrations/001_a.sql", "CREATE TABLE a (id int);\n")
        try p.file("migrations/001_a.down.sql", "DROP TABLE a;\n")
        let out = try p.opsctl(["migrate", "rollback", "--steps", "1", "--env", "production"])
        #expect(out.exitCode == 65, "\(out.stdout)\(out.stderr)")
        #expect(out.stderr.contains("opsctl.yaml:3:16"), "\(out.stderr)")
        #expect(out.stderr.contains("true or false"), "\(out.stderr)")
        #expect(!out.stdout.contains("rolled back"))
    }

    @Test(arguments: [
        ("    retry: { attempts: 99999999999999999999 }", "x.yaml:4:"),
        ("    with: { duration: 9999999999999999999999h }", "x.yaml:4:"),
        ("    when: \"" + String(repeating: "(", count: 100_000) + "true" + String(repeating: ")", count: 100_000) + "\"", "x.yaml:4:"),
    ])
    func hostileRunbookValuesAreInvalidInput(line: String, location: String) throws {
        let p = Project()
        try p.file("x.yaml", "steps:\n  - id: a\n    kind: pause\n\(line)\n")
        let out = try p.opsctl(["run", "x.yaml", "--no-journal"], timeout: 60)
        #expect(out.exitCode == 65, "\(out.stderr.prefix(500))")
        #expect(out.stderr.contains(location), "\(out.stderr.prefix(500))")
    }

    @Test(arguments: [
        (["replay", "--failed", "--verify-wait=-1s"], "--verify-wait"),
        (["replay", "--failed", "--verify-wait", "-1s"], "--verify-wait"),
        (["replay", "--since", "garbage"], "2026-11-24T09:00Z"),
        (["replay", "--failed", "--rate", "0/s"], "--rate"),
        (["replay", "--failed", "--rate", "1e19/s"], "--rate"),
        (["replay", "--failed", "--stale", "9999999999999999999999h"], "366 days"),
        (["run", "x.yaml", "--parallel", "-1"], "--parallel must be between 1 and 256"),
        (["run", "x.yaml", "--deadline", "-5s"], "negative"),
        (["migrate", "rollback", "--steps", "-1"], "--steps"),
        (["rollback", "--steps", "0"], "--steps"),
        (["history", "--limit", "-3"], "--limit"),
        (["health", "--latency-warn", "9999999999999999999999h"], "--latency-warn"),
        (["logs", "analyze", "--since", "-2h"], "--since"),
        (["migrate", "new", String(repeating: "n", count: 100_000)], "use at most 100"),
    ])
    func badFlagValuesAreUsageErrorsNamingTheFlag(args: [String], expected: String) throws {
        let p = Project()
        let out = try p.opsctl(args, timeout: 60)
        #expect(out.exitCode == 64, "\(args.map { $0.prefix(40) }): \(out.stderr.prefix(400))")
        #expect(out.stderr.contains(expected), "\(out.stderr.prefix(400))")
        #expect(!out.stderr.contains("Missing value"))
        #expect(!out.stderr.contains("NSCocoaErrorDomain"))
    }

    @Test func migrateNewInAPlaceItCannotWriteSaysWhereAndWhat() throws {
        let p = Project()
        try p.file("blocker", "a regular file where the directory should be\n")
        let out = try p.opsctl(["migrate", "new", "add_index", "--dir", "blocker/migrations"])
        #expect(out.exitCode != 0)
        #expect(!out.stderr.contains("NSCocoaErrorDomain"), "\(out.stderr)")
        #expect(out.stderr.contains("blocker"), "\(out.stderr)")
    }

    @Test func historyShowsAnAbortedRunAsAborted() throws {
        let p = Project()
        try p.file("deploy.yaml", "steps:\n  - { id: slow, kind: shell, with: { command: 'sleep 5', readonly: true } }\n")
        let stopped = try p.opsctl(["run", "deploy.yaml", "--deadline", "1s"])
        #expect(stopped.exitCode == 2, "\(stopped.stdout)\(stopped.stderr)")
        let history = try p.opsctl(["history"])
        #expect(history.exitCode == 0, "\(history.stderr)")
        let line = history.stdout.split(separator: "\n").first { $0.contains("deploy") }
        #expect(line?.contains("aborted") == true, "\(history.stdout)")
        #expect(line?.contains(" error ") == false, "\(history.stdout)")
    }
}
