import Foundation
import Support
import Testing
import TestSupport
import Webhooks

/// `opsctl predeploy`, `opsctl verify` and `opsctl webhook` against the real reference service.
@Suite("predeploy, verify and webhook commands", .enabled(if: TestDatabase.available), .serialized)
final class VerifyCommandTests {
    let service: RunningService
    let directory = TemporaryDirectory()
    let migrations = RunningService.repositoryRoot.appendingPathComponent("examples/churn-saver/migrations").path

    init() throws {
        service = try RunningService(label: "verify_cmd")
        _ = try directory.write("opsctl.yaml", """
            environments:
              local:
                base_url: \(service.baseURL)
                webhook: { scheme: whop, secret_env: WHOP_WEBHOOK_SECRET }
                migrations: { dir: \(migrations) }
                secrets: [WHOP_API_KEY]
            """)
        // The service's schema was created by psql: adopt it into opsctl's history.
        let adopt = try opsctl(["migrate", "baseline", "--version", "7", "--no-journal"])
        guard adopt.exitCode == 0 else { throw RunningService.Failure(description: "baseline failed: \(adopt.stdout)\(adopt.stderr)") }
    }

    deinit { service.stop() }

    var environment: [String: String] {
        ["DATABASE_URL": service.databaseURL, "WHOP_WEBHOOK_SECRET": service.secret,
         "NEXT_PUBLIC_WHOP_APP_ID": "app_test123", "WHOP_API_KEY": "wk-live-7f3a9b2c1d4e5f60",
         "SCHEDULER_SECRET_KEY": "sched-9a8b7c6d5e4f3a2b", "ENCRYPTION_KEY": Data(repeating: 7, count: 32).base64EncodedString(),
         "XDG_STATE_HOME": directory.path + "/state"]
    }

    func opsctl(_ args: [String], env extra: [String: String] = [:]) throws -> ProcessOutput {
        try Opsctl.run(args, env: environment.merging(extra) { $1 }, directory: directory.path, timeout: 120)
    }

    @Test func predeployPassesAndNamesBadVariablesWithoutTheirValues() throws {
        let ok = try opsctl(["predeploy", "--format", "json"])
        #expect(ok.exitCode == 0, "\(ok.stdout)")
        let bad = try opsctl(["predeploy", "--format", "junit"], env: ["NEXT_PUBLIC_WHOP_APP_ID": "prod-zz-secretish", "WHOP_API_KEY": "changeme"])
        #expect(bad.exitCode == 1)
        #expect(bad.stdout.contains("NEXT_PUBLIC_WHOP_APP_ID does not match /^app_/"), "\(bad.stdout)")
        #expect(bad.stdout.contains("WHOP_API_KEY"))
        #expect(!bad.stdout.contains("prod-zz-secretish"), "a variable's value is never printed")
        #expect(!bad.stdout.contains("changeme"))
    }

    @Test func verifyIsGreenAndLeavesNoTestEventBehind() throws {
        let out = try opsctl(["verify", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("processed=true"))
        #expect(try service.count("SELECT count(*) FROM events WHERE whop_event_id LIKE 'opsctl_synthetic_%'") == 0)
    }

    @Test func verifyFailsWithRemediationWhenTheServiceLosesItsDatabase() throws {
        _ = try service.request("POST", "/admin/faults", body: Array(#"{"db_down":true}"#.utf8))
        defer { _ = try? service.request("DELETE", "/admin/faults") }
        let out = try opsctl(["verify"])
        #expect(out.exitCode == 1)
        #expect(out.stdout.contains("status 503"))
        #expect(out.stdout.contains("→ The service cannot use its database"))
        #expect(try service.count("SELECT count(*) FROM events WHERE whop_event_id LIKE 'opsctl_synthetic_%'") == 0)
    }

    /// Issue 12 item 11: the synthetic webhook is only sent when opsctl can log in to the database, since
    /// only then can remove-test-event delete it. (The sandbox trusts every password, so the failing login
    /// is a role that does not exist.)
    @Test func verifyDoesNotSendTheSyntheticWebhookWhenItsDatabaseLoginFails() throws {
        let bad = service.databaseURL.replacingOccurrences(of: "postgres@", with: "opsctl_no_such_role:wrong-password@")
        #expect(bad != service.databaseURL, "the test URL names a role: \(service.databaseURL)")
        let out = try opsctl(["verify", "--format", "json", "--no-journal"], env: ["DATABASE_URL": bad])
        #expect(out.exitCode == 1, "\(out.stdout)\(out.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let steps = report["results"] as? [[String: Any]] ?? []
        let send = try #require(steps.first { $0["id"] as? String == "send-test-event" }, "\(out.stdout)")
        #expect(send["status"] as? String == "skipped", "\(send)")
        #expect(steps.first { $0["id"] as? String == "database" }?["status"] as? String == "error", "\(out.stdout)")
        #expect(try service.count("SELECT count(*) FROM events WHERE whop_event_id LIKE 'opsctl_synthetic_%'") == 0)
        #expect(!out.stdout.contains("wrong-password"))
    }

    @Test func wrongSecretIsReportedAsARejectedSignature() throws {
        let out = try opsctl(["verify"], env: ["WHOP_WEBHOOK_SECRET": "not-the-service-secret-000"])
        #expect(out.exitCode == 1)
        #expect(out.stdout.contains("answered 401"), "\(out.stdout)")
        #expect(out.stdout.contains("rejected the signature"))
        #expect(!out.stdout.contains("not-the-service-secret-000"))
    }

    @Test func webhookSendIsProcessedOnceAndSignMatchesPythonHMAC() throws {
        let id = "evt_cli_" + UUID().uuidString.prefix(8).lowercased()
        let first = try opsctl(["webhook", "send", "--type", "payment_failed", "--id", id, "--data", "membership_id=mem_cli", "--no-journal"])
        #expect(first.exitCode == 0, "\(first.stdout)")
        let again = try opsctl(["webhook", "send", "--type", "payment_failed", "--id", id, "--data", "membership_id=mem_cli", "--no-journal"])
        #expect(again.exitCode == 0)
        #expect(try service.count("SELECT count(*) FROM events WHERE whop_event_id = $1", [id]) == 1)
        #expect(try service.count("SELECT count(*) FROM recovery_cases WHERE membership_id = 'mem_cli'") == 1)

        let signed = try opsctl(["webhook", "sign", "--type", "payment_succeeded", "--id", "evt_sign"])
        #expect(signed.exitCode == 0)
        let parts = signed.stdout.components(separatedBy: "\n\n")
        let headerLines = parts[0].split(separator: "\n").map(String.init)
        let signature = try #require(headerLines.first { $0.hasPrefix("x-whop-signature:") }).split(separator: " ").last.map(String.init)
        let body = parts[1].trimmingCharacters(in: .newlines)
        let python = try ProcessRunner.run(["python3", "-c", "import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha256).hexdigest())", service.secret], stdin: body)
        #expect(python.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == signature)
    }
}
