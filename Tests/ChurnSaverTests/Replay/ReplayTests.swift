import Foundation
import HTTP
import Testing
import TestSupport

/// `opsctl replay` against the real reference service on loopback and the sandbox database.
@Suite("Replay", .enabled(if: TestDatabase.available), .serialized)
struct ReplayTests {
    @Test func signedReplayIsAcceptedAndRedeliveryIsNeverProcessedTwice() throws {
        let f = try ReplayFixture(label: "replay_signed")
        try f.seedFailed(25)
        let first = try f.opsctl(["replay", "--failed", "--verify", "--format", "json"])
        #expect(first.exitCode == 0, "\(first.stdout)\(first.stderr)")
        let replay = ReplayFixture.results(first)["replay"]?["details"] as? [String: Any]
        #expect(replay?["delivered"] as? Int == 25)
        #expect(ReplayFixture.results(first)["verify"]?["status"] as? String == "ok")
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == 25)
        #expect(try f.count("SELECT count(*) FROM recovery_cases") == 25)
        let actions = try f.count("SELECT count(*) FROM recovery_actions")

        // Everything again (already processed): acknowledged as duplicates, nothing processed twice.
        let again = try f.opsctl(["replay", "--since", "3h", "--format", "json"])
        #expect(again.exitCode == 0, "\(again.stdout)\(again.stderr)")
        let details = ReplayFixture.results(again)["replay"]?["details"] as? [String: Any]
        #expect(details?["delivered"] as? Int == 25)
        #expect(details?["already_processed"] as? Int == 25)
        #expect(try f.count("SELECT count(*) FROM recovery_cases") == 25)
        #expect(try f.count("SELECT count(*) FROM recovery_actions") == actions)
        #expect(!again.stdout.contains(f.service.secret) && !again.stderr.contains(f.service.secret))
    }

    @Test func dryRunPrintsThePlanAndSendsNothing() throws {
        let f = try ReplayFixture(label: "replay_dryrun")
        try f.seedFailed(12)
        try f.seedFailed(3, prefix: "evt_valid_", type: "membership_went_valid")
        let out = try f.opsctl(["replay", "--failed", "--dry-run", "--rate", "5/s", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let plan = (ReplayFixture.results(out)["replay"]?["details"] as? [String: Any])?["plan"] as? String ?? ""
        #expect(plan.contains("would replay 15 event(s)"), "\(plan)")
        #expect(plan.contains("payment_failed 12") && plan.contains("membership_went_valid 3"), "\(plan)")
        #expect(plan.contains("at 5/s"), "\(plan)")
        #expect(plan.contains("evt_seed_1"), "\(plan)")
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == 0)
    }

    @Test func errorsFromTheServiceAreRetriedUntilDeliveredOrReported() throws {
        let f = try ReplayFixture(label: "replay_500", serviceEnvironment: ["FAULTS": "error_rate=0.3"])
        try f.seedFailed(300)
        let out = try f.opsctl(["replay", "--failed", "--max-attempts", "12", "--concurrency", "16", "--format", "json"])
        let details = ReplayFixture.results(out)["replay"]?["details"] as? [String: Any] ?? [:]
        let delivered = details["delivered"] as? Int ?? -1
        let failed = details["failed"] as? Int ?? -1
        #expect(delivered + failed == 300, "\(out.stdout)")
        #expect((details["retries"] as? Int ?? 0) > 0, "30 % of requests answered 500, so some were retried")
        for failure in details["failures"] as? [[String: Any]] ?? [] {
            #expect(text(failure["error"]).contains("HTTP 500"))
        }
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == delivered)
        #expect(try f.count("SELECT count(*) FROM recovery_cases") == delivered)
    }

    @Test func serviceDownFailsClearlyLosesNothingAndResumes() throws {
        let f = try ReplayFixture(label: "replay_down")
        try f.seedFailed(40)
        try f.config("down.yaml", baseURL: "http://127.0.0.1:9")
        let down = try f.opsctl(["replay", "--failed", "--config", "down.yaml", "--concurrency", "4"])
        #expect(down.exitCode == 1)
        #expect(down.stdout.contains("unreachable") && down.stdout.contains("nothing lost"), "\(down.stdout)")
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'") == 0)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status IN ('pending', 'failed')") == 40)

        let resumed = try f.opsctl(["replay", "--resume", "latest", "--verify", "--format", "json"])
        #expect(resumed.exitCode == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == 40)
    }

    @Test func killNineMidReplayThenResumeDeliversEveryEventExactlyOnce() throws {
        let total = 5_000
        let f = try ReplayFixture(label: "replay_kill")
        try f.seedFailed(total)
        let worker = try f.spawn(["replay", "--failed", "--rate", "600/s"])
        let started = eventually(timeout: 60) {
            (try? f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'")) ?? 0 >= 1_500
        }
        kill(worker.processIdentifier, SIGKILL)
        worker.waitUntilExit()
        #expect(started, "the replay made progress before the kill")
        let before = try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'")
        #expect(before < total, "killed in the middle")

        let resumed = try f.opsctl(["replay", "--resume", "latest", "--concurrency", "16", "--format", "json"])
        #expect(resumed.exitCode == 0, "\(resumed.stdout)\(resumed.stderr)")
        let details = ReplayFixture.results(resumed)["replay"]?["details"] as? [String: Any]
        // Only what was not acknowledged is sent again (events in flight at the kill may be re-sent, and then acknowledged as duplicates).
        #expect((details?["delivered"] as? Int ?? 0) <= total - before + 64)
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == total)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'") == total)
        #expect(try f.count("SELECT count(*) FROM recovery_cases") == total)
        #expect(try f.count("SELECT count(*) FROM (SELECT membership_id FROM recovery_cases GROUP BY 1 HAVING count(*) > 1) d") == 0)
        #expect(try f.count("SELECT count(DISTINCT n) FROM (SELECT count(*) AS n FROM recovery_actions GROUP BY case_id) a") == 1,
                "every case has the actions of exactly one processing")
    }

    @Test func twoWorkersShareOneReplayWithoutOverlap() throws {
        let total = 1_500
        let f = try ReplayFixture(label: "replay_workers")
        try f.seedFailed(total)
        let first = try f.spawn(["replay", "--failed", "--rate", "300/s", "--worker", "w1"])
        let created = eventually(timeout: 30) {
            (try? f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'")) ?? 0 > 50
        }
        #expect(created)
        let second = try f.opsctl(["replay", "--join", "latest", "--rate", "300/s", "--worker", "w2", "--format", "json"])
        #expect(second.exitCode == 0, "\(second.stdout)\(second.stderr)")
        first.waitUntilExit()
        #expect(first.terminationStatus == 0 || first.terminationStatus == 1)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'") == total)
        #expect(try f.count("SELECT count(DISTINCT claimed_by) FROM opsctl.replay_items") == 2)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE claimed_by = 'w2'") > 0)
        // An event sent by both workers would have been answered "duplicate" the second time.
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE service_status = 'duplicate'") == 0)
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == total)
        #expect(try f.count("SELECT count(*) FROM opsctl.runs WHERE runbook = 'replay'") == 2, "both workers are journaled runs")
    }
}
