import Foundation
import Testing
import TestSupport

/// The exit-code contract of DESIGN.md, one test per code.
@Suite("Exit codes")
struct ExitCodeTests {
    static let steps = """
        steps:
          - { id: fine, kind: pause }
        """

    @Test func zeroWhenEverythingPasses() throws {
        let p = Project()
        try p.file("ok.yaml", Self.steps)
        let out = try p.opsctl(["run", "ok.yaml", "--no-journal"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stdout.contains("PASSED") || out.stdout.contains("ok"))
    }

    @Test func oneWhenAStepFails() throws {
        let p = Project()
        try p.file("fail.yaml", "steps:\n  - { id: broken, kind: shell, with: { command: 'exit 4', readonly: true }, remediation: call the owner }\n")
        let out = try p.opsctl(["run", "fail.yaml", "--no-journal"])
        #expect(out.exitCode == 1)
        #expect(out.stdout.contains("call the owner"))
    }

    @Test func twoWhenConfirmationIsRefused() throws {
        let p = Project()
        try p.file("opsctl.yaml", "environments:\n  production:\n    protected: true\n")
        try p.file("deploy.yaml", "steps:\n  - { id: change, kind: shell, with: { command: 'true' } }\n")
        let out = try p.opsctl(["run", "deploy.yaml", "--env", "production", "--no-journal"])
        #expect(out.exitCode == 2)
        #expect(out.stdout.contains("--confirm production") || out.stderr.contains("--confirm production"))
        let ok = try p.opsctl(["run", "deploy.yaml", "--env", "production", "--confirm", "production", "--no-journal"])
        #expect(ok.exitCode == 0, "\(ok.stdout)\(ok.stderr)")
    }

    @Test(arguments: [
        ["run", "x.yaml", "--format", "bogus"],
        ["run"],
        ["health", "--url", "not a url"],
        ["run", "x.yaml", "--parallel", "0"],
        ["sandbox", "sideways"],
        ["frobnicate"],
    ])
    func sixtyFourForUsageErrors(args: [String]) throws {
        let p = Project()
        let out = try p.opsctl(args)
        #expect(out.exitCode == 64, "\(args): \(out.stderr)")
        #expect(!out.stderr.isEmpty)
    }

    @Test func sixtyFiveForInvalidRunbooksWithLocation() throws {
        let p = Project()
        try p.file("bad.yaml", "steps:\n  - id: a\n    kind: postgres.conect\n")
        let out = try p.opsctl(["run", "bad.yaml"])
        #expect(out.exitCode == 65)
        #expect(out.stderr.contains("bad.yaml:3:11"), "\(out.stderr)")
        #expect(out.stderr.contains("did you mean 'postgres.connect'"))
        let missing = try p.opsctl(["run", "nope"])
        #expect(missing.exitCode == 65)
        try p.file("opsctl.yaml", "environments:\n  local:\n    base_url: not-a-url\n")
        let config = try p.opsctl(["run", "bad.yaml"])
        #expect(config.exitCode == 65)
        #expect(config.stderr.contains("opsctl.yaml:3:"), "\(config.stderr)")
    }

    @Test(arguments: [("exit 0", 0), ("exit 1", 2)])
    func nagiosCodes(command: String, code: Int32) throws {
        let p = Project()
        try p.file("n.yaml", "steps:\n  - { id: s, kind: shell, with: { command: '\(command)', readonly: true } }\n")
        let out = try p.opsctl(["run", "n.yaml", "--format", "nagios", "--no-journal"])
        #expect(out.exitCode == code)
        #expect(out.stdout.hasPrefix("OPSCTL "))
    }

    @Test func nagiosUnknownForErrorsAndWarningForWarn() throws {
        let p = Project()
        try p.file("e.yaml", "steps:\n  - { id: db, kind: postgres.connect }\n")
        let out = try p.opsctl(["run", "e.yaml", "--format", "nagios", "--no-journal"])
        #expect(out.exitCode == 3, "\(out.stdout)")
        try p.file("w.yaml", "steps:\n  - { id: q, kind: postgres.connections, with: { warn: -1, crit: 1000 } }\n")
        if let url = try? TestDatabase.fresh("nagioswarn") {
            let warn = try p.opsctl(["run", "w.yaml", "--format", "nagios", "--no-journal"], env: ["DATABASE_URL": url])
            #expect(warn.exitCode == 1, "\(warn.stdout)")
            let strict = try p.opsctl(["run", "w.yaml", "--strict", "--no-journal"], env: ["DATABASE_URL": url])
            #expect(strict.exitCode == 1)
            let lenient = try p.opsctl(["run", "w.yaml", "--no-journal"], env: ["DATABASE_URL": url])
            #expect(lenient.exitCode == 0)
        }
    }

    @Test func versionAndHelpDocumentTheContract() throws {
        let p = Project()
        let version = try p.opsctl(["--version"])
        #expect(version.exitCode == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
        let help = try p.opsctl(["--help"])
        #expect(help.stdout.contains("EXIT CODES"))
        #expect(help.stdout.contains("65"))
    }
}
