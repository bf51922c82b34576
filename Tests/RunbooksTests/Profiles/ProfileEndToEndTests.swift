import Checks
import Foundation
import Postgres
import Support
import Testing
import TestSupport

/// The four shipped profiles besides churn-saver, end to end: each example directory's opsctl.yaml,
/// migrations and seed data against the sandbox (a database per profile), and a small receiver per
/// profile that verifies signatures with an implementation independent of opsctl's and updates the
/// event table the way the real service would. The verbs run with no runbook forked.
@Suite(.enabled(if: TestDatabase.available))
struct ProfileEndToEndTests {
    @Test(arguments: ShippedProfile.all)
    func verbsAreGreenOnHealthySeededData(_ profile: ShippedProfile) throws {
        let stand = try ProfileStand(profile)
        if profile.typeorm {
            let adopted = try stand.opsctl(["migrate", "baseline", "--import-from", "public.migrations"])
            #expect(adopted.exitCode == 0, "\(adopted.stdout)\(adopted.stderr)")
        }
        for verb in [["health"], ["doctor"], ["predeploy"], ["verify"], ["reconcile"], ["run", "daily"], ["migrate", "status"]] {
            let result = try stand.opsctl(verb + ["--format", "json"])
            let name = "\(profile.name) \(verb.joined(separator: " "))"
            #expect(result.exitCode == 0, "\(name): \(result.stdout)\(result.stderr)")
            // health's Postgres catalog looks at the whole (shared) sandbox cluster: a checkpoint or bloat
            // warning there comes from other tests, not from this profile.
            let red = ProfileStand.red(result).filter { verb != ["health"] || !$0.contains(": warn ") }
            #expect(red.isEmpty, "\(name): \(red)")
        }
        // verify's synthetic event was removed again, with what the service derived from it.
        #expect(try stand.events(where: "\(profile.providerID)::text LIKE 'opsctl_synthetic_%'") == 0)
        #expect(try stand.count("SELECT count(*) AS n FROM receiver_deliveries") == 1, "verify's round trip: one signed delivery")
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
        let reconcile = try stand.opsctl(["reconcile", "--format", "json"])
        let errors = reportStep(reconcile.stdout, "errors-by-type")
        #expect(["warn", "fail"].contains(errors?["status"]?.string ?? ""), "\(profile.name): \(reconcile.stdout)")
        let remedy = errors?["remediation"]?.string ?? ""
        #expect(remedy.contains("replay --failed"), "\(profile.name): \(reconcile.stdout)")

        let dry = try stand.opsctl(["replay", "--failed", "--dry-run"])
        #expect(dry.stdout.contains("would replay 3 event(s)"), "\(profile.name): \(dry.stdout)\(dry.stderr)")
        #expect(try stand.count("SELECT count(*) AS n FROM receiver_deliveries") == 0, "a dry run sends nothing")

        let run = try stand.opsctl(["replay", "--failed", "--verify", "--verify-wait", "20s"])
        #expect(run.exitCode == 0, "\(profile.name): \(run.stdout)\(run.stderr)")
        #expect(try stand.count("SELECT count(*) AS n FROM receiver_deliveries") == 3)
        #expect(try stand.count("SELECT count(DISTINCT event_id) AS n FROM receiver_deliveries") == 3, "each exactly once")
        #expect(try stand.events(where: profile.failedWhere) == 0)
        let list = failed.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" }.joined(separator: ", ")
        #expect(try stand.events(where: "\(profile.providerID)::text IN (\(list)) AND \(profile.processedWhere)") == 3)

        let again = try stand.opsctl(["replay", "--failed", "--dry-run"])
        #expect(again.stdout.contains("would replay 0 event(s)"), "\(profile.name): \(again.stdout)")
        let after = try stand.opsctl(["reconcile", "--format", "json"])
        #expect(after.exitCode == 0 && ProfileStand.red(after).isEmpty, "\(profile.name) after the replay: \(ProfileStand.red(after))")
    }

    @Test(arguments: ShippedProfile.all)
    func aStuckEventAndABrokenInvariantTurnTheirStepsRedWithARemediation(_ profile: ShippedProfile) throws {
        let stand = try ProfileStand(profile)
        try stand.execute(profile.stuckPending)
        try stand.execute(profile.brokenInvariant)
        let reconcile = try stand.opsctl(["reconcile", "--format", "json"])
        #expect(reconcile.exitCode == 1, "\(profile.name): \(reconcile.stdout)\(reconcile.stderr)")
        for id in ["unprocessed", profile.invariantStep] {
            let step = reportStep(reconcile.stdout, id)
            #expect(step?["status"]?.string == "fail", "\(profile.name) \(id): \(reconcile.stdout)")
            let remedy = step?["remediation"]?.string ?? ""
            #expect(!remedy.isEmpty, "\(profile.name) \(id) names no remediation")
        }
        let verify = try stand.opsctl(["verify", "--format", "json"])
        #expect(verify.exitCode == 1, "\(profile.name): \(verify.stdout)\(verify.stderr)")
        #expect(reportStep(verify.stdout, "event-backlog")?["status"]?.string == "fail", "\(profile.name): \(ProfileStand.red(verify))")
    }

    @Test(arguments: ShippedProfile.all)
    func reconcileFixRepairsWhatIsSafe(_ profile: ShippedProfile) throws {
        let stand = try ProfileStand(profile)
        try stand.execute(profile.fixable)
        let found = try stand.opsctl(["reconcile", "--format", "json"])
        let status = reportStep(found.stdout, profile.fixableStep)?["status"]?.string ?? ""
        #expect(["warn", "fail"].contains(status), "\(profile.name): \(ProfileStand.red(found))")
        let planned = try stand.opsctl(["reconcile", "--fix", "--dry-run", "--format", "json"])
        #expect(planned.exitCode == 0 || planned.exitCode == 1, "\(planned.stdout)\(planned.stderr)")
        let still = try stand.opsctl(["reconcile", "--format", "json"])
        #expect(reportStep(still.stdout, profile.fixableStep)?["status"]?.string == status, "a dry run repairs nothing")

        // The --fix run still reports what its checks found before the repair; the next run is clean.
        let fixed = try stand.opsctl(["reconcile", "--fix", "--format", "json"])
        let repairs = reportSteps(fixed.stdout).filter { ($0["id"]?.string ?? "").hasPrefix("fix-") && $0["status"]?.string == "ok" }
        #expect(!repairs.isEmpty, "\(profile.name): \(fixed.stdout)\(fixed.stderr)")
        let after = try stand.opsctl(["reconcile", "--format", "json"])
        #expect(after.exitCode == 0 && ProfileStand.red(after).isEmpty, "\(profile.name) after --fix: \(ProfileStand.red(after))")
    }

    @Test(arguments: ShippedProfile.all)
    func receiverDownTurnsHealthVerifyAndReplayRed(_ profile: ShippedProfile) throws {
        let stand = try ProfileStand(profile)
        try stand.execute(profile.failThree)
        stand.stop()
        let health = try stand.opsctl(["health", "--no-database", "--format", "json"])
        #expect(health.exitCode == 1, "\(profile.name): \(health.stdout)\(health.stderr)")
        let endpoints = reportSteps(health.stdout).filter { ($0["id"]?.string ?? "").hasPrefix("endpoint") }
        #expect(!endpoints.isEmpty && endpoints.allSatisfy { ["fail", "error"].contains($0["status"]?.string ?? "") }, "\(health.stdout)")
        #expect(endpoints.allSatisfy { ($0["remediation"]?.string ?? "").isEmpty == false }, "\(health.stdout)")
        let verify = try stand.opsctl(["verify", "--format", "json"])
        #expect(verify.exitCode == 1, "\(profile.name): \(verify.stdout)\(verify.stderr)")
        let replay = try stand.opsctl(["replay", "--failed", "--max-attempts", "1", "--format", "json"])
        #expect(replay.exitCode == 1, "\(profile.name): \(replay.stdout)\(replay.stderr)")
        #expect(reportStep(replay.stdout, "replay")?["status"]?.string == "fail", "\(replay.stdout)")
        #expect(try stand.events(where: profile.failedWhere) == 3, "nothing marked processed while the receiver is down")
    }
}
