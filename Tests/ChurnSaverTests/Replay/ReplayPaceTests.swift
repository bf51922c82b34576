import Foundation
import Support
import Testing
import TestSupport

/// A replay continued with --resume or --join keeps the rate and concurrency it was started with
/// (a 100/s replay resumed against production must not go at full speed), unless given again.
@Suite("Replay pace", .enabled(if: TestDatabase.available), .serialized)
struct ReplayPaceTests {
    /// Starts a throttled replay, kills it once it has delivered a few events; the fixture and the replay id.
    func interruptedReplay(_ label: String) throws -> (ReplayFixture, String) {
        let f = try ReplayFixture(label: label)
        try f.seedFailed(60)
        let worker = try f.spawn(["replay", "--failed", "--rate", "10/s", "--concurrency", "3"])
        let progressed = eventually(timeout: 60) {
            (try? f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'")) ?? 0 >= 3
        }
        kill(worker.processIdentifier, SIGKILL)
        worker.waitUntilExit()
        #expect(progressed, "the replay made progress before the kill")
        let id = try f.service.value("SELECT replay_id FROM opsctl.replays ORDER BY created_at DESC LIMIT 1").string ?? ""
        #expect(try f.count("SELECT count(*) FROM opsctl.replays WHERE rate = 10 AND concurrency = 3") == 1, "the pace is recorded")
        return (f, id)
    }

    static func plan(_ out: ProcessOutput) -> String {
        (ReplayFixture.results(out)["replay"]?["details"] as? [String: Any])?["plan"] as? String ?? ""
    }

    @Test func resumeKeepsTheOriginalRateAndConcurrency() throws {
        let (f, id) = try interruptedReplay("pace_resume")
        let dry = try f.opsctl(["replay", "--resume", id, "--dry-run", "--format", "json"])
        #expect(dry.exitCode == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(Self.plan(dry).contains("at 10/s"), "\(Self.plan(dry))")
        #expect(Self.plan(dry).contains("concurrency 3"), "\(Self.plan(dry))")

        let resumed = try f.opsctl(["replay", "--resume", id, "--format", "json"])
        #expect(resumed.exitCode == 0, "\(resumed.stdout)\(resumed.stderr)")
        let details = ReplayFixture.results(resumed)["replay"]?["details"] as? [String: Any]
        #expect(details?["rate"] as? Double == 10, "\(details ?? [:])")
        #expect(details?["concurrency"] as? Int == 3, "\(details ?? [:])")
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'") == 60)
    }

    @Test func joinKeepsTheRateAndAnExplicitRateOverridesIt() throws {
        let (f, id) = try interruptedReplay("pace_join")
        let join = try f.opsctl(["replay", "--join", id, "--dry-run", "--format", "json"])
        #expect(join.exitCode == 0, "\(join.stdout)\(join.stderr)")
        #expect(Self.plan(join).contains("would join replay \(id)"), "\(Self.plan(join))")
        #expect(Self.plan(join).contains("at 10/s") && Self.plan(join).contains("concurrency 3"), "\(Self.plan(join))")

        let faster = try f.opsctl(["replay", "--resume", id, "--rate", "500/s", "--concurrency", "6", "--format", "json"])
        #expect(faster.exitCode == 0, "\(faster.stdout)\(faster.stderr)")
        let details = ReplayFixture.results(faster)["replay"]?["details"] as? [String: Any]
        #expect(details?["rate"] as? Double == 500, "\(details ?? [:])")
        #expect(details?["concurrency"] as? Int == 6, "\(details ?? [:])")
    }

    /// `opsctl run replay --resume RUN_ID` continues that run's replay at its pace too.
    @Test func runResumeKeepsTheRate() throws {
        let (f, _) = try interruptedReplay("pace_run_resume")
        let runID = try f.service.value("SELECT run_id FROM opsctl.runs WHERE runbook = 'replay' ORDER BY started_at DESC LIMIT 1").string ?? ""
        #expect(!runID.isEmpty)
        let resumed = try f.opsctl(["run", "replay", "--resume", runID, "--format", "json"])
        #expect(resumed.exitCode == 0, "\(resumed.stdout)\(resumed.stderr)")
        let details = ReplayFixture.results(resumed)["replay"]?["details"] as? [String: Any]
        #expect(details?["rate"] as? Double == 10, "\(details ?? [:])")
        #expect(details?["concurrency"] as? Int == 3, "\(details ?? [:])")
    }
}
