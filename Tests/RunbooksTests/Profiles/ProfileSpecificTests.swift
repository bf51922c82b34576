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

    /// TypeORM applied the migrations; opsctl never ran them. `migrate baseline --import-from public.migrations`
    /// adopts TypeORM's history (its `timestamp` column, found without --column), after which status is clean
    /// and apply has nothing to do.
    @Test func twentycrmAdoptsTypeORMsMigrationHistory() throws {
        let stand = try ProfileStand(try Self.profile("twentycrm-whop"))
        let before = try stand.opsctl(["migrate", "status", "--format", "json"])
        #expect(before.stdout.contains("pending"), "\(before.stdout)\(before.stderr)")

        let adopted = try stand.opsctl(["migrate", "baseline", "--import-from", "public.migrations"])
        #expect(adopted.exitCode == 0, "\(adopted.stdout)\(adopted.stderr)")
        #expect(adopted.stdout.contains("recorded 2 version(s) as applied: 1718000000000, 1718000000001"), "\(adopted.stdout)")

        let after = try stand.opsctl(["migrate", "status", "--format", "json"])
        #expect(after.exitCode == 0, "\(after.stdout)\(after.stderr)")
        #expect(!after.stdout.contains("\"pending\" : ["), "\(after.stdout)")
        let apply = try stand.opsctl(["migrate", "apply"])
        #expect(apply.exitCode == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(try stand.count("SELECT count(*) AS n FROM opsctl.schema_migrations") == 2)

        // The profile's own gate reads TypeORM's table: a missing Whop migration there is red.
        let checks = try stand.opsctl(["run", stand.profile.fragments + "/service-checks.yaml"])
        #expect(checks.exitCode == 0, "\(checks.stdout)\(checks.stderr)")
        try stand.execute("DELETE FROM migrations WHERE name LIKE 'AddWhopWebhookLogTable%'")
        let missing = try stand.opsctl(["run", stand.profile.fragments + "/service-checks.yaml"])
        #expect(missing.exitCode == 1, "\(missing.stdout)\(missing.stderr)")
    }

    /// The Admin API check sends X-Shopify-Access-Token from the secret; the fake Admin API answers 401
    /// to any other token. The token never appears in the output.
    @Test func shopifyAdminAPIIsReachedWithTheAccessTokenFromItsSecret() throws {
        let stand = try ProfileStand(try Self.profile("shopify-membership"))
        let token = stand.profile.secrets["SHOPIFY_ADMIN_ACCESS_TOKEN"]!
        let ok = try stand.opsctl(["run", stand.profile.fragments + "/service-checks.yaml", "--format", "json"])
        #expect(ok.exitCode == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(reportStep(ok.stdout, "shopify-admin-api")?["status"]?.string == "ok", "\(ok.stdout)")

        let revoked = "shpat_" + String(repeating: "r", count: 32)
        let bad = try Opsctl.run(["run", stand.profile.fragments + "/service-checks.yaml", "--format", "json"],
                                 env: stand.environment.merging(["SHOPIFY_ADMIN_ACCESS_TOKEN": revoked]) { $1 },
                                 directory: stand.directory.path)
        #expect(bad.exitCode == 1, "\(bad.stdout)\(bad.stderr)")
        let step = reportStep(bad.stdout, "shopify-admin-api")
        #expect(step?["status"]?.string == "fail", "\(bad.stdout)")
        #expect(bad.stdout.contains("401"), "\(bad.stdout)")
        #expect(!(bad.stdout + bad.stderr).contains(revoked) && !(ok.stdout + ok.stderr).contains(token), "the token leaked")
    }
}
