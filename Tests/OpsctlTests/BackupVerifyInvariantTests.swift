import Foundation
import Postgres
import Support
import Testing
import TestSupport

/// `opsctl backup verify` checks the restored copy, not the live database: the profile's invariants
/// (service-invariants) and `migrate verify` run against the scratch database, which is dropped
/// whatever they find — and a verify killed with SIGKILL leaves a copy the next verify drops and names.
@Suite("opsctl backup verify: invariants on the restored copy", .enabled(if: TestDatabase.available), .serialized)
struct BackupVerifyInvariantTests {
    static func steps(_ stdout: String) -> [String: [String: Any]] {
        guard let report = try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any],
              let results = report["results"] as? [[String: Any]] else { return [:] }
        return Dictionary(results.compactMap { r in (r["id"] as? String).map { ($0, r) } }) { a, _ in a }
    }

    /// Whether a database exists (other suites' verifies share the server: count only our own copy).
    static func exists(_ url: String, _ name: String) throws -> Bool {
        try Probe.scalar(url, "SELECT count(*) FROM pg_database WHERE datname = '\(name)'") != "0"
    }

    /// A recovered case with no success event breaks churn-saver's `recovered-without-success`.
    static let brokenCase = """
        INSERT INTO recovery_cases (id, company_id, membership_id, user_id, first_failure_at, status)
        VALUES ('case_broken', 'co_1', 'mem_broken', 'user_1', now(), 'recovered')
        """

    @Test func healthyBackupVerifiesGreenWithTheProfileInvariantsAndMigrateVerifyOnTheCopy() throws {
        // A protected environment: verify changes nothing there, so it asks no confirmation.
        let (p, url) = try BackupCommandTests.project(events: 40, protected: true)
        #expect(try p.opsctl(["backup", "create", "--no-journal", "--confirm", "local"]).exitCode == 0)
        // The live database breaks an invariant after the backup: verify must not look at it.
        try BackupCommandTests.exec(url, Self.brokenCase)
        let verify = try p.opsctl(["backup", "verify", "--format", "json", "--no-journal"])
        #expect(verify.exitCode == 0, "\(verify.stdout)\(verify.stderr)")
        let steps = Self.steps(verify.stdout)
        let scratch = try #require(((steps["verify"]?["details"] as? [String: Any])?["scratch_database"]) as? String)
        #expect(scratch.hasPrefix("opsctl_verify_"))
        #expect(steps["schema"]?["status"] as? String == "ok", "migrate verify ran on the copy: \(verify.stdout)")
        for id in ["open-but-valid", "recovered-without-success", "actions-after-close", "beyond-schedule"] {
            #expect(steps[id]?["status"] as? String == "ok", "\(id): \(verify.stdout)")
        }
        #expect(steps["fix-open-but-valid"] == nil && steps["fix-beyond-schedule"] == nil, "no fix is part of a backup verify")
        #expect(steps["drop-scratch"]?["status"] as? String == "ok")
        #expect(try !Self.exists(url, scratch), "the copy is dropped")
        #expect(!verify.stdout.contains("password"), "no credentials in the report")
    }

    @Test func aBackupOfBrokenDataFailsOnTheInvariantWithItsRemediationAndTheCopyIsDropped() throws {
        let (p, url) = try BackupCommandTests.project(events: 40)
        try BackupCommandTests.exec(url, Self.brokenCase)
        #expect(try p.opsctl(["backup", "create", "--no-journal"]).exitCode == 0)
        // The live database is repaired after the backup: the verdict is about the backup's data.
        try BackupCommandTests.exec(url, "DELETE FROM recovery_cases")
        let verify = try p.opsctl(["backup", "verify", "--format", "json", "--strict", "--no-journal"])
        #expect(verify.exitCode == 1, "\(verify.stdout)\(verify.stderr)")
        let step = try #require(Self.steps(verify.stdout)["recovered-without-success"])
        #expect(step["status"] as? String == "warn", "churn-saver's invariant warns: \(step)")
        #expect((step["message"] as? String ?? "").contains("case_broken"), "\(step)")
        #expect((step["remediation"] as? String ?? "").contains("reconcile"), "\(step)")
        #expect(Self.steps(verify.stdout)["drop-scratch"]?["status"] as? String == "ok")
        let scratch = try #require((Self.steps(verify.stdout)["verify"]?["details"] as? [String: Any])?["scratch_database"] as? String)
        #expect(try !Self.exists(url, scratch), "dropped although an invariant failed")

        let human = try p.opsctl(["backup", "verify", "--strict", "--no-journal"])
        #expect(human.exitCode == 1)
        #expect(human.stdout.contains("recovered-without-success"), "\(human.stdout)")
    }

    @Test func aVerifyKilledWithSigkillLeavesACopyTheNextVerifyDropsAndNames() throws {
        // An opsctl.yaml invariant that sleeps holds the verify while its scratch copy exists.
        let (p, url) = try BackupCommandTests.project(events: 20)
        try p.file("opsctl.yaml", """
            environments:
              local:
                migrations: { dir: \(BackupCommandTests.migrations) }
              slow:
                migrations: { dir: \(BackupCommandTests.migrations) }
                backups:
                  invariants: [{ name: slow, sql: "SELECT count(*) FROM pg_sleep(60)" }]
            backups:
              dir: backups
              count_tables: [recovery_cases, opsctl.schema_migrations]
            """)
        #expect(try p.opsctl(["backup", "create", "--no-journal"]).exitCode == 0)
        let verify = try p.spawn(["backup", "verify", "--env", "slow", "--no-journal"])
        // The copy this verify is checking: the database its sleeping invariant runs in.
        let sleeping = "SELECT datname FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid() AND datname LIKE 'opsctl_verify_%'"
        #expect(eventually(timeout: 60) { ((try? Probe.scalar(url, sleeping)) ?? nil) != nil }, "the verify is checking the copy")
        let leftover = try #require(try Probe.scalar(url, sleeping))
        kill(verify.processIdentifier, SIGKILL)
        verify.waitUntilExit()
        #expect(try Self.exists(url, leftover), "kill -9 runs no cleanup")

        let next = try p.opsctl(["backup", "verify", "--format", "json", "--no-journal"])
        #expect(next.exitCode == 0, "\(next.stdout)\(next.stderr)")
        let details = Self.steps(next.stdout)["verify"]?["details"] as? [String: Any]
        let dropped = details?["dropped_leftovers"] as? [String] ?? []
        #expect(dropped.contains(leftover), "the leftover is dropped and named: \(next.stdout)")
        #expect(try !Self.exists(url, leftover))
    }
}
