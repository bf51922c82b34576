import Foundation
import Support
import Testing
import TestSupport

/// Issue 14: the profile layout (profiles/NAME/profile.yaml + runbooks/), where runbooks come from,
/// and the error when a user's runbook shadows a verb's without declaring the params it passes.
@Suite("Profiles: layout, origins, verb params")
struct ProfileStructureTests {
    @Test func runbooksSaysWhereEachComesFrom() throws {
        let p = Project()
        let out = try p.opsctl(["runbooks"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        let lines = out.stdout.split(separator: "\n").map(String.init)
        func line(_ name: String) -> String { lines.first { $0.hasPrefix(name + " ") } ?? "" }
        #expect(line("verify").contains("[shipped]"), "\(out.stdout)")
        // churn-saver (the default profile) provides the fragments; its own explains come with it.
        #expect(line("service-metrics").contains("[profile churn-saver]"), "\(out.stdout)")
        #expect(line("explain-case").contains("[profile churn-saver]"), "\(out.stdout)")
        #expect(!out.stdout.contains("invalid"), "\(out.stdout)")

        // A user's ./runbooks shadows both; a service without a profile gets the shipped empty fragments.
        try p.file("runbooks/verify.yaml", "name: verify\nparams:\n  dir: { type: string }\n  roundtrip: { type: bool }\nsteps: []\n")
        try p.file("opsctl.yaml", "environments:\n  local: { base_url: http://127.0.0.1:1 }\nservice:\n  health: [{ path: /healthz }]\n")
        let mine = try p.opsctl(["runbooks"])
        let mineLines = mine.stdout.split(separator: "\n").map(String.init)
        #expect(mineLines.first { $0.hasPrefix("verify ") }?.contains("[./runbooks]") == true, "\(mine.stdout)")
        #expect(mineLines.first { $0.hasPrefix("service-metrics ") }?.contains("[shipped]") == true, "\(mine.stdout)")
        #expect(!mine.stdout.contains("explain-case"), "no profile, no churn-saver explains: \(mine.stdout)")
    }

    /// A verify.yaml of the user's that leaves out `roundtrip`: the param, the verb and the file are named, exit 65.
    @Test func aShadowingRunbookMissingAVerbParamIsNamed() throws {
        let p = Project()
        try p.file("opsctl.yaml", "environments:\n  local: { base_url: http://127.0.0.1:1 }\n")
        try p.file("runbooks/verify.yaml", """
            name: verify
            params:
              dir: { type: string, default: migrations }
            steps:
              - id: hello
                kind: shell
                with: { command: "true", readonly: true }
            """)
        let out = try p.opsctl(["verify"])
        #expect(out.exitCode == 65, "\(out.stdout)\(out.stderr)")
        #expect(out.stderr.contains("does not declare param 'roundtrip', which 'opsctl verify' passes"), "\(out.stderr)")
        #expect(out.stderr.contains("it shadows the shipped 'verify'") && out.stderr.contains("runbooks/verify.yaml"), "\(out.stderr)")
        #expect(out.stdout.isEmpty, "nothing ran: \(out.stdout)")

        // Declaring it (a default is enough) runs the user's runbook.
        try p.file("runbooks/verify.yaml", """
            name: verify
            params:
              dir: { type: string, default: migrations }
              roundtrip: { type: bool, default: true }
            steps:
              - id: hello
                kind: shell
                with: { command: "true", readonly: true }
            """)
        let fixed = try p.opsctl(["verify", "--no-journal"])
        #expect(fixed.exitCode == 0, "\(fixed.stdout)\(fixed.stderr)")
        #expect(fixed.stdout.contains("hello"), "\(fixed.stdout)")
    }

    /// `reconcile ENTITY ID` runs the profile's explain-ENTITY; an entity nothing explains is a usage error.
    @Test func reconcileEntitiesComeFromTheProfile() throws {
        let p = Project()
        let out = try p.opsctl(["reconcile", "invoice", "in_1"])
        #expect(out.exitCode == 64, "\(out.stdout)\(out.stderr)")
        #expect(out.stderr.contains("'reconcile event <id>'") && out.stderr.contains("'reconcile case <id>'")
                && out.stderr.contains("'reconcile payment <id>'"), "\(out.stderr)")
        let usage = try p.opsctl(["reconcile", "event"])
        #expect(usage.exitCode == 64, "\(usage.stderr)")
    }

    /// `opsctl init` reads the profile from its directory and writes its whole mapping, commented.
    @Test func initWritesTheProfilesMapping() throws {
        let p = Project()
        let out = try p.opsctl(["init", "--profile", "churn-saver", "--dir", "ops"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let written = try String(contentsOfFile: p.dir.path + "/ops/opsctl.yaml", encoding: .utf8)
        #expect(written.contains("  profile: churn-saver"))
        #expect(written.contains("#    provider_id: whop_event_id") || written.contains("#  events:"), "\(written)")
        #expect(written.contains("#  env_rules:"), "\(written)")
        let unknown = try p.opsctl(["init", "--profile", "churn-savr", "--dir", "x"])
        #expect(unknown.exitCode != 0 && unknown.stderr.contains("did you mean 'churn-saver'"), "\(unknown.stderr)")
    }
}
