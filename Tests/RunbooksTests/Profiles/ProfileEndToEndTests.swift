import Checks
import Foundation
import Postgres
import Support
import Testing
import TestSupport

/// The four shipped profiles besides churn-saver, end to end: each example directory's opsctl.yaml,
/// migrations and seed data against the sandbox (a database per profile), and a small receiver per
/// profile that verifies signatures with an implementation independent of opsctl's and updates the
/// event table the way the real service would.
@Suite(.enabled(if: TestDatabase.available))
struct ProfileEndToEndTests {
    @Test(arguments: ShippedProfile.all)
    func healthySeededDataIsGreen(_ profile: ShippedProfile) throws {
        let stand = try ProfileStand(profile)
        if profile.typeorm {
            let adopted = try stand.opsctl(["migrate", "baseline", "--import-from", "public.migrations"])
            #expect(adopted.exitCode == 0, "\(adopted.stdout)\(adopted.stderr)")
        }
        for verb in [["health"], ["doctor"], ["migrate", "status"], ["run", profile.fragments + "/service-invariants.yaml"],
                     ["run", profile.fragments + "/service-metrics.yaml"]] {
            let result = try stand.opsctl(verb + ["--format", "json"])
            #expect(result.exitCode == 0, "\(profile.name) \(verb.joined(separator: " ")): \(result.stdout)\(result.stderr)")
            let red = reportSteps(result.stdout).filter { !["ok", "skipped"].contains($0["status"]?.string ?? "") }
            #expect(red.isEmpty, "\(profile.name) \(verb.joined(separator: " ")): \(red)")
        }
        let dry = try stand.opsctl(["replay", "--failed", "--dry-run"])
        #expect(dry.exitCode == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("would replay 0 event(s)"), "\(profile.name): \(dry.stdout)")
    }

    @Test(arguments: ShippedProfile.all)
    func replayFailedVerifyDeliversEachFailedEventOnceAndTheyEndProcessed(_ profile: ShippedProfile) throws {
        let stand = try ProfileStand(profile)
        try stand.execute(profile.failThree)
        let failed = try stand.ids(where: profile.failedWhere)
        #expect(failed.count == 3)
        let dry = try stand.opsctl(["replay", "--failed", "--dry-run"])
        #expect(dry.stdout.contains("would replay 3 event(s)"), "\(profile.name): \(dry.stdout)\(dry.stderr)")
        #expect(try stand.count("SELECT count(*) AS n FROM receiver_deliveries") == 0, "a dry run sends nothing")

        let run = try stand.opsctl(["replay", "--failed", "--verify", "--verify-wait", "20s"])
        #expect(run.exitCode == 0, "\(profile.name): \(run.stdout)\(run.stderr)")
        #expect(try stand.count("SELECT count(*) AS n FROM receiver_deliveries") == 3)
        #expect(try stand.count("SELECT count(*) AS n FROM (SELECT event_id FROM receiver_deliveries GROUP BY 1 HAVING count(*) > 1) d") == 0)
        #expect(try stand.count("SELECT count(DISTINCT event_id) AS n FROM receiver_deliveries") == 3)
        #expect(try stand.events(where: profile.failedWhere) == 0)
        let list = failed.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" }.joined(separator: ", ")
        #expect(try stand.events(where: "\(profile.providerID)::text IN (\(list)) AND \(profile.processedWhere)") == 3)

        let again = try stand.opsctl(["replay", "--failed", "--dry-run"])
        #expect(again.stdout.contains("would replay 0 event(s)"), "\(profile.name): \(again.stdout)")
        let invariants = try stand.opsctl(["run", profile.fragments + "/service-invariants.yaml"])
        #expect(invariants.exitCode == 0, "\(profile.name) after the replay: \(invariants.stdout)\(invariants.stderr)")
    }

    @Test(arguments: ShippedProfile.all)
    func stuckPendingAndABrokenInvariantTurnTheirStepsRedWithARemediation(_ profile: ShippedProfile) throws {
        let stand = try ProfileStand(profile)
        try stand.execute(profile.stuckPending)
        try stand.execute(profile.brokenInvariant)
        let result = try stand.opsctl(["run", profile.fragments + "/service-invariants.yaml", "--format", "json"])
        #expect(result.exitCode == 1, "\(profile.name): \(result.stdout)\(result.stderr)")
        for id in [profile.stuckStep, profile.invariantStep] {
            let step = reportStep(result.stdout, id)
            #expect(step?["status"]?.string == "fail", "\(profile.name) \(id): \(result.stdout)")
            #expect((step?["remediation"]?.string ?? "").isEmpty == false, "\(profile.name) \(id) names no remediation")
        }
    }

    @Test(arguments: ShippedProfile.all)
    func receiverDownTurnsHealthAndReplayRed(_ profile: ShippedProfile) throws {
        let stand = try ProfileStand(profile)
        try stand.execute(profile.failThree)
        stand.stop()
        let health = try stand.opsctl(["health", "--no-database", "--format", "json"])
        #expect(health.exitCode == 1, "\(profile.name): \(health.stdout)\(health.stderr)")
        #expect(reportSteps(health.stdout).contains { ["fail", "error"].contains($0["status"]?.string ?? "") }, "\(health.stdout)")
        let replay = try stand.opsctl(["replay", "--failed", "--max-attempts", "1", "--format", "json"])
        #expect(replay.exitCode == 1, "\(profile.name): \(replay.stdout)\(replay.stderr)")
        #expect(reportStep(replay.stdout, "replay")?["status"]?.string == "fail", "\(replay.stdout)")
        #expect(try stand.events(where: profile.failedWhere) == 3, "nothing marked processed while the receiver is down")
    }
}
