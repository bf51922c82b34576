import Foundation
import Postgres
import Testing
import TestSupport

/// The shipped runbooks' thresholds against real data: `crit: 1` fails at one.
@Suite("Shipped thresholds", .enabled(if: TestDatabase.available))
struct ShippedThresholdTests {
    /// One duplicated provider event id fails reconcile's invariant (it passed with "> 1").
    /// A partial unique index keeps `missing_unique` at 0, so only the duplicate count decides.
    @Test(arguments: [(0, "ok"), (1, "fail"), (2, "fail")])
    func oneDuplicateFailsReconcile(duplicates: Int, expected: String) throws {
        let url = try TestDatabase.fresh("reconcile_dup_\(duplicates)")
        let db = try PostgresConnection(dsn: url, applicationName: "opsctl-test-setup")
        defer { db.close() }
        _ = try db.execute("""
            CREATE TABLE events (whop_event_id text);
            CREATE UNIQUE INDEX events_whop_event_id ON events (whop_event_id) WHERE whop_event_id NOT LIKE 'dup%';
            INSERT INTO events VALUES ('evt_1'), ('evt_2');
            """)
        for i in 0..<duplicates { _ = try db.execute("INSERT INTO events VALUES ('dup\(i)'), ('dup\(i)')") }
        let out = try Project(databaseURL: url).opsctl(["run", "reconcile", "--only", "database,duplicate-provider-ids",
                                                        "--no-journal", "--format", "json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any], "\(out.stdout)\(out.stderr)")
        let step = try #require((report["results"] as? [[String: Any]])?.first { $0["id"] as? String == "duplicate-provider-ids" })
        #expect(step["status"] as? String == expected, "\(step)")
        #expect(out.exitCode == (expected == "ok" ? 0 : 1))
    }
}
