import Foundation
import Testing
import TestSupport

/// A new replay's first events are sent while its items are still being written (ReplayCreation):
/// they must be checkpointed against the very rows the commit creates, and never sent again.
@Suite("Replay creation", .enabled(if: TestDatabase.available), .serialized)
struct ReplayCreationTests {
    @Test func eventsSentWhileTheReplayIsWrittenAreCheckpointedOnceAndNeverSentTwice() throws {
        let total = 3_000  // three times the first events handed over before the items are written
        let f = try ReplayFixture(label: "replay_create_overlap")
        try f.seedFailed(total)
        let out = try f.opsctl(["replay", "--failed", "--concurrency", "32", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let details = ReplayFixture.results(out)["replay"]?["details"] as? [String: Any]
        #expect(details?["created"] as? Bool == true)
        #expect(details?["delivered"] as? Int == total)
        #expect(details?["requests"] as? Int == total, "one request per event: nothing sent twice")
        #expect(details?["already_processed"] as? Int == 0)
        #expect((details?["replay_totals"] as? [String: Any])?["delivered"] as? Int == total)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered' AND attempts = 1") == total)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE service_status IS DISTINCT FROM 'processed'") == 0)
        // The events sent first are the selection's first, numbered as the items are (seeded in occurred_at order).
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE event_id <> 'evt_seed_' || seq") == 0)
        #expect(try f.count("SELECT total FROM opsctl.replays") == total)
        #expect(try f.count("SELECT count(*) FROM opsctl.replays WHERE finished_at IS NOT NULL") == 1)
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == total)
        #expect(try f.count("SELECT count(*) FROM recovery_cases") == total)
        // Every block was let go (locks of this database: other suites' fixtures share the cluster).
        #expect(try f.count("""
            SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """) == 0)
    }

    @Test func aProviderExportLargerThanTheFirstEventsIsSentOnceInFileOrder() throws {
        let total = 1_500
        let f = try ReplayFixture(label: "replay_create_file")
        try f.seedFailed(total)
        // The export in the reverse of the table's order: items follow the file.
        let export = try f.service.value("SELECT string_agg(payload::text, E'\\n' ORDER BY occurred_at DESC) FROM events").string ?? ""
        _ = try f.dir.write("export.jsonl", export + "\n")
        let out = try f.opsctl(["replay", "--from-file", "export.jsonl", "--concurrency", "16", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let details = ReplayFixture.results(out)["replay"]?["details"] as? [String: Any]
        #expect(details?["delivered"] as? Int == total)
        #expect(details?["requests"] as? Int == total)
        #expect(details?["already_processed"] as? Int == 0)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered' AND attempts = 1") == total)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE event_id <> 'evt_seed_' || (\(total) + 1 - seq)") == 0)
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == total)
    }

    @Test func aReplayOfNothingIsCreatedAndFinishes() throws {
        let f = try ReplayFixture(label: "replay_create_empty")
        let out = try f.opsctl(["replay", "--failed", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let details = ReplayFixture.results(out)["replay"]?["details"] as? [String: Any]
        #expect(details?["created"] as? Bool == true)
        #expect(details?["requests"] as? Int == 0)
        #expect(try f.count("SELECT count(*) FROM opsctl.replays WHERE total = 0 AND finished_at IS NOT NULL") == 1)
    }
}
