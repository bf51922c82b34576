import Foundation
import Support
import Testing
import TestSupport

/// `notify:` against local receivers that validate what Slack (Block Kit), PagerDuty (Events API v2)
/// and a Standard Webhooks consumer (the official `standardwebhooks` package) would accept. A check
/// is broken and repaired between runs: each incident opens and closes exactly once.
@Suite("notify: transitions reach Slack, PagerDuty and a webhook", .serialized)
struct NotifyTests {
    static let apiToken = "Zq8NTF-canary-7781xJ7"
    static let signingSecret = "whsec_" + Data((0..<32).map { UInt8($0 * 7 % 251) }).base64EncodedString()

    struct Received {
        var channel: String
        var ok: Bool
        var problems: [String]
        var body: [String: Any]
        var raw: String
    }

    final class Setup: @unchecked Sendable {
        let log = TemporaryDirectory()
        let receiver: PythonFixture
        let project = Project()
        var logPath: String { log.path + "/received.jsonl" }

        init(notify: String) throws {
            receiver = try PythonFixture(script: "notify_receiver.py", arguments: [log.path + "/received.jsonl"],
                                         environment: ["WEBHOOK_SECRET": NotifyTests.signingSecret])
            project.env["API_TOKEN"] = NotifyTests.apiToken
            project.env["SLACK_HOOK_URL"] = receiver.url("/slack")
            project.env["PD_ROUTING"] = "R0b1n2c3d4e5f6a7b8c9d0e1f2a3b4c5"
            project.env["HOOK_SIGNING"] = NotifyTests.signingSecret
            try project.file("opsctl.yaml", """
                default_environment: production
                environments:
                  production: { base_url: "http://127.0.0.1:1" }
                notify:
                \(notify.replacingOccurrences(of: "RECEIVER", with: receiver.url("")).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
                """)
            try project.file("check.yaml", """
                name: check
                steps:
                  - id: api
                    title: API answers
                    kind: shell
                    with: { readonly: true, command: 'if [ -f broken ]; then echo "api down (token $API_TOKEN)"; exit 1; fi; echo fine' }
                    remediation: Roll back with 'opsctl rollback'
                  - id: steady
                    kind: shell
                    with: { readonly: true, command: 'true' }
                """)
        }

        func run(broken: Bool) throws -> ProcessOutput {
            let flag = project.dir.path + "/broken"
            if broken { _ = FileManager.default.createFile(atPath: flag, contents: Data()) } else { try? FileManager.default.removeItem(atPath: flag) }
            let out = try project.opsctl(["run", "check.yaml", "--format", "json"])
            #expect(out.exitCode == (broken ? 1 : 0), "\(out.stdout)\(out.stderr)")
            #expect(!(out.stdout + out.stderr).contains(NotifyTests.apiToken))
            return out
        }

        func received() throws -> [Received] {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            return try text.split(separator: "\n").map { line in
                let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                return Received(channel: o["channel"] as? String ?? "", ok: o["ok"] as? Bool ?? false,
                                problems: o["problems"] as? [String] ?? [], body: o["body"] as? [String: Any] ?? [:],
                                raw: o["raw"] as? String ?? "")
            }
        }
    }

    static let allChannels = """
        slack: { webhook_url_env: SLACK_HOOK_URL }
        pagerduty: { routing_key_env: PD_ROUTING, url: RECEIVER/pagerduty }
        webhook: { url: RECEIVER/webhook, secret_env: HOOK_SIGNING }
        run_url: "https://ci.example.com/runs/{run_id}"
        """

    @Test func exactlyOneTriggerAndOneResolvePerIncident() throws {
        let setup = try Setup(notify: Self.allChannels)
        _ = try setup.run(broken: false)
        #expect(try setup.received().isEmpty, "a healthy first run sends nothing")
        let failing = try setup.run(broken: true)
        #expect(failing.stderr.contains("notified pagerduty: 1 trigger(s), 0 resolve(s)"), "\(failing.stderr)")
        _ = try setup.run(broken: true)
        _ = try setup.run(broken: false)
        _ = try setup.run(broken: false)

        let all = try setup.received()
        for message in all {
            #expect(message.ok, "\(message.channel) rejected the payload: \(message.problems)")
            #expect(!message.raw.contains(Self.apiToken), "\(message.channel) received the token")
        }
        let pagerduty = all.filter { $0.channel == "pagerduty" }
        #expect(pagerduty.map { $0.body["event_action"] as? String } == ["trigger", "resolve"])
        #expect(Set(pagerduty.map { $0.body["dedup_key"] as? String }) == ["opsctl/check/production/api"])
        let trigger = pagerduty.first?.body["payload"] as? [String: Any]
        #expect((trigger?["summary"] as? String)?.contains("check on production: API answers fail") == true, "\(trigger ?? [:])")
        #expect((trigger?["custom_details"] as? [String: Any])?["remediation"] as? String == "Roll back with 'opsctl rollback'")
        #expect(((pagerduty.first?.body["links"] as? [[String: Any]])?.first?["href"] as? String)?.hasPrefix("https://ci.example.com/runs/") == true)

        let slack = all.filter { $0.channel == "slack" }
        #expect(slack.count == 2)
        #expect((slack.first?.body["text"] as? String)?.contains("check failing on production: 1 step(s)") == true)
        #expect(slack.first?.raw.contains("Roll back with") == true, "the remediation is in the Slack message")
        #expect((slack.last?.body["text"] as? String)?.contains("recovered") == true)

        let webhook = all.filter { $0.channel == "webhook" }
        #expect(webhook.count == 2)
        let actions = webhook.compactMap { ($0.body["transitions"] as? [[String: Any]])?.first?["action"] as? String }
        #expect(actions == ["trigger", "resolve"])
    }

    /// The run notifies through the config it was started with (loaded once), not the file as it is
    /// when the run ends: here the failing step rewrites opsctl.yaml without `notify:`.
    @Test func theRunNotifiesThroughTheConfigItStartedWith() throws {
        let setup = try Setup(notify: Self.allChannels)
        _ = try setup.run(broken: false)
        try setup.project.file("rewrite.yaml", """
            name: check
            steps:
              - id: api
                title: API answers
                kind: shell
                with:
                  readonly: true
                  command: 'printf "environments:\\n  production: { base_url: http://127.0.0.1:1 }\\n" > opsctl.yaml; exit 1'
              - id: steady
                kind: shell
                with: { readonly: true, command: 'true' }
            """)
        let out = try setup.project.opsctl(["run", "rewrite.yaml", "--format", "json"])
        #expect(out.exitCode == 1, "\(out.stdout)\(out.stderr)")
        let rewritten = try String(contentsOfFile: setup.project.dir.path + "/opsctl.yaml", encoding: .utf8)
        #expect(!rewritten.contains("notify"), "the step rewrote the config: \(rewritten)")
        #expect(out.stderr.contains("notified pagerduty: 1 trigger(s), 0 resolve(s)"), "\(out.stderr)")
        #expect(try setup.received().filter { $0.channel == "pagerduty" }.map { $0.body["event_action"] as? String } == ["trigger"])
    }

    @Test func aDeliveryFailureIsReportedButNeverFailsTheRun() throws {
        let setup = try Setup(notify: """
            slack: { webhook_url_env: SLACK_DOWN }
            pagerduty: { routing_key_env: PD_ROUTING, url: "http://127.0.0.1:1/v2/enqueue" }
            webhook: { url_env: NOT_SET_ANYWHERE }
            """)
        setup.project.env["SLACK_DOWN"] = setup.receiver.url("/down")
        let failing = try setup.run(broken: true)
        for channel in ["slack", "pagerduty", "webhook"] {
            #expect(failing.stderr.contains("notification to \(channel) FAILED (the run's result is unchanged)"), "\(failing.stderr)")
        }
        let recovered = try setup.run(broken: false)
        #expect(recovered.stderr.contains("notification to slack FAILED"), "\(recovered.stderr)")
    }

    /// A flapping check: PagerDuty still opens and closes each incident (that is its job), Slack hears once.
    @Test func minIntervalHoldsBackAFlappingCheckInSlack() throws {
        let setup = try Setup(notify: Self.allChannels + "\nmin_interval: 1h")
        _ = try setup.run(broken: true)
        let recovered = try setup.run(broken: false)
        #expect(recovered.stderr.contains("held back by notify.min_interval"), "\(recovered.stderr)")
        _ = try setup.run(broken: true)
        let all = try setup.received()
        #expect(all.filter { $0.channel == "slack" }.count == 1)
        #expect(all.filter { $0.channel == "webhook" }.count == 1)
        #expect(all.filter { $0.channel == "pagerduty" }.compactMap { $0.body["event_action"] as? String } == ["trigger", "resolve", "trigger"])
    }

    @Test func badNotifyConfigNamesTheLine() throws {
        let p = Project()
        try p.file("opsctl.yaml", """
            environments:
              local: { base_url: "http://127.0.0.1:1" }
            notify:
              slack: { webhook_url: https://hooks.slack.com/services/T/B/X }
            """)
        let out = try p.opsctl(["run", "verify", "--dry-run"])
        #expect(out.exitCode == 65)
        #expect(out.stderr.contains("opsctl.yaml:4:"), "\(out.stderr)")
        #expect(out.stderr.contains("unknown key 'webhook_url'"), "\(out.stderr)")
    }
}
