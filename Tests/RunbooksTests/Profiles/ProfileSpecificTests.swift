import Checks
import Foundation
import Postgres
import Support
import Testing
import TestSupport

/// What only one shipped profile has: TwentyCRM's TypeORM-owned schema, Shopify's Admin API token.
@Suite(.enabled(if: TestDatabase.available))
struct ProfileSpecificTests {
    static func profile(_ name: String) throws -> ShippedProfile {
        try #require(ShippedProfile.all.first { $0.name == name })
    }

    /// TypeORM applied the migrations; opsctl never ran them. Until `migrate baseline --import-from
    /// public.migrations` adopts TypeORM's history (its `timestamp` column, found without --column), verify's
    /// schema gate is red; afterwards status is clean, apply has nothing to do and the gates are green.
    @Test func twentycrmAdoptsTypeORMsMigrationHistory() throws {
        let stand = try ProfileStand(try Self.profile("twentycrm-whop"))
        let before = try stand.opsctl(["verify", "--format", "json"])
        #expect(before.exitCode == 1, "\(before.stdout)\(before.stderr)")
        #expect(reportStep(before.stdout, "schema-version")?["status"]?.string == "fail", "\(ProfileStand.red(before))")

        let adopted = try stand.opsctl(["migrate", "baseline", "--import-from", "public.migrations"])
        #expect(adopted.exitCode == 0, "\(adopted.stdout)\(adopted.stderr)")
        #expect(adopted.stdout.contains("recorded 2 version(s) as applied: 1718000000000, 1718000000001"), "\(adopted.stdout)")

        let status = try stand.opsctl(["migrate", "status"])
        #expect(status.exitCode == 0, "\(status.stdout)\(status.stderr)")
        let apply = try stand.opsctl(["migrate", "apply"])
        #expect(apply.exitCode == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(try stand.count("SELECT count(*) AS n FROM opsctl.schema_migrations") == 2)
        for verb in ["predeploy", "verify"] {
            let gate = try stand.opsctl([verb, "--format", "json"])
            #expect(gate.exitCode == 0, "\(verb): \(ProfileStand.red(gate))\(gate.stderr)")
        }

        // The profile also reads TypeORM's own history: a Whop migration missing there is red.
        try stand.execute("DELETE FROM migrations WHERE name LIKE 'AddWhopWebhookLogTable%'")
        let missing = try stand.opsctl(["verify", "--format", "json"])
        #expect(missing.exitCode == 1, "\(missing.stdout)\(missing.stderr)")
        #expect(reportStep(missing.stdout, "typeorm-whop-migrations")?["status"]?.string == "fail", "\(ProfileStand.red(missing))")
    }

    /// verify's Admin API check sends X-Shopify-Access-Token from the secret; the fake Admin API answers
    /// 401 to any other token. The token never appears in the output.
    @Test func shopifyAdminAPIIsReachedWithTheAccessTokenFromItsSecret() throws {
        let stand = try ProfileStand(try Self.profile("shopify-membership"))
        let token = stand.profile.secrets["SHOPIFY_ADMIN_ACCESS_TOKEN"]!
        let ok = try stand.opsctl(["verify", "--format", "json"])
        #expect(ok.exitCode == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(reportStep(ok.stdout, "shopify-admin-api")?["status"]?.string == "ok", "\(ok.stdout)")

        let revoked = "shpat_" + String(repeating: "r", count: 32)
        let bad = try Opsctl.run(["verify", "--format", "json"],
                                 env: stand.environment.merging(["SHOPIFY_ADMIN_ACCESS_TOKEN": revoked]) { $1 },
                                 directory: stand.directory.path)
        #expect(bad.exitCode == 1, "\(bad.stdout)\(bad.stderr)")
        let step = reportStep(bad.stdout, "shopify-admin-api")
        #expect(step?["status"]?.string == "fail", "\(bad.stdout)")
        #expect(bad.stdout.contains("401"), "\(bad.stdout)")
        #expect(!(bad.stdout + bad.stderr).contains(revoked) && !(ok.stdout + ok.stderr).contains(token), "the token leaked")
    }
}
