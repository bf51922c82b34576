import Checks
import Foundation
import Postgres
import Support
import Testing
import TestSupport

/// `opsctl backup verify` runs each shipped profile's service-invariants against the restored copy:
/// a backup of healthy seed data is green, a backup of data breaking an invariant fails on that
/// invariant's step with its remediation, and the scratch copy is dropped either way.
@Suite(.enabled(if: TestDatabase.available))
struct ProfileBackupVerifyTests {
    /// Whether the scratch copy a verify named still exists (other tests' verifies share the server).
    static func exists(_ stand: ProfileStand, _ report: String) throws -> Bool {
        let name = reportStep(report, "verify")?["details"]?["scratch_database"]?.string ?? "none"
        return try stand.count("SELECT count(*) AS n FROM pg_database WHERE datname = '\(name)'") != 0
    }

    @Test(arguments: ShippedProfile.all)
    func invariantsOfTheProfileDecideTheVerdictOfABackup(_ profile: ShippedProfile) throws {
        let stand = try ProfileStand(profile)
        let healthy = try stand.opsctl(["backup", "create", "--no-journal"])
        #expect(healthy.exitCode == 0, "\(profile.name): \(healthy.stdout)\(healthy.stderr)")
        let green = try stand.opsctl(["backup", "verify", "--format", "json", "--no-journal"])
        #expect(green.exitCode == 0, "\(profile.name): \(green.stdout)\(green.stderr)")
        #expect(ProfileStand.red(green).isEmpty, "\(profile.name): \(ProfileStand.red(green))")
        #expect(reportStep(green.stdout, profile.invariantStep)?["status"]?.string == "ok", "\(profile.name): \(green.stdout)")
        #expect(reportStep(green.stdout, "verify")?["details"]?["scratch_database"]?.string != nil)
        #expect(try !Self.exists(stand, green.stdout), "the copy is dropped")

        // Data breaking the invariant, backed up: the newest backup restores and matches its manifest, and fails.
        try stand.execute(profile.brokenInvariant)
        let broken = try stand.opsctl(["backup", "create", "--no-journal"])
        #expect(broken.exitCode == 0, "\(profile.name): \(broken.stdout)\(broken.stderr)")
        let red = try stand.opsctl(["backup", "verify", "--format", "json", "--no-journal"])
        #expect(red.exitCode == 1, "\(profile.name): \(red.stdout)\(red.stderr)")
        let step = reportStep(red.stdout, profile.invariantStep)
        #expect(step?["status"]?.string == "fail", "\(profile.name): \(red.stdout)")
        let remedy = step?["remediation"]?.string ?? ""
        #expect(!remedy.isEmpty, "\(profile.name): the invariant's remediation")
        #expect(reportStep(red.stdout, "verify")?["status"]?.string == "ok", "the restore itself matched its manifest")
        #expect(reportStep(red.stdout, "drop-scratch")?["status"]?.string == "ok")
        #expect(try !Self.exists(stand, red.stdout), "\(profile.name): the copy is dropped after a failing invariant")
    }
}
