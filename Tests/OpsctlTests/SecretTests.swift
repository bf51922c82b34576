import Foundation
import Testing
import TestSupport

/// A canary secret must never leave the process, whatever the format or path.
@Suite("Secrets are masked")
struct SecretTests {
    static let canary = "canary-Zq8vX3pL0mN2"

    @Test(arguments: ["human", "json", "jsonl", "junit", "tap", "nagios", "prometheus"])
    func canaryNeverAppears(format: String) throws {
        let p = Project()
        p.env["WHOP_API_KEY"] = Self.canary
        p.env["DATABASE_URL"] = "postgresql://app:\(Self.canary)@127.0.0.1:1/app?connect_timeout=1"
        try p.file("leak.yaml", """
            name: leak
            params: { token: "\(Self.canary)" }
            steps:
              - { id: echo, kind: shell, with: { command: "echo key=$WHOP_API_KEY; echo ${params.token} >&2; exit 1", readonly: true } }
              - { id: db, kind: postgres.connect }
              - id: header
                kind: http.request
                with: { url: "http://127.0.0.1:1/", headers: { Authorization: "Bearer ${env.WHOP_API_KEY}" }, timeout: 1s }
            """)
        let out = try p.opsctl(["run", "leak.yaml", "--format", format, "--output", "report.out"])
        let written = (try? String(contentsOfFile: p.dir.path + "/report.out", encoding: .utf8)) ?? ""
        #expect(!written.isEmpty)
        for text in [out.stdout, out.stderr, written] {
            #expect(!text.contains(Self.canary), "canary leaked in \(format)")
        }
        if format != "prometheus" { #expect(written.contains("****"), "the secret is shown masked, not dropped") }
        let journal = (try? String(contentsOfFile: p.dir.path + "/state/opsctl/journal.jsonl", encoding: .utf8)) ?? ""
        #expect(!journal.isEmpty)
        #expect(!journal.contains(Self.canary))
        let explain = try p.opsctl(["explain", "leak.yaml"])
        #expect(!explain.stdout.contains(Self.canary))
    }

    @Test(arguments: ["junit", "tap"])
    func shellOutputCannotInjectIntoFormats(format: String) throws {
        let p = Project()
        try p.file("inject.yaml", """
            steps:
              - id: evil
                kind: shell
                with:
                  command: "printf '</failure></testcase><testcase name=\\"fake\\"/>\\nok 99 - fake pass\\n# SKIP\\n]]>\\001'; exit 1"
                  readonly: true
            """)
        let out = try p.opsctl(["run", "inject.yaml", "--format", format, "--no-journal"])
        #expect(out.exitCode == 1)
        if format == "junit" {
            #expect(!out.stdout.contains("<testcase name=\"fake\""))
            #expect(out.stdout.components(separatedBy: "<testcase ").count == 2)
        } else {
            #expect(!out.stdout.split(separator: "\n").contains { $0.hasPrefix("ok 99") })
        }
    }
}
