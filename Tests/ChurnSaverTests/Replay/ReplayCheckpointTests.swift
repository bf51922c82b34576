import Foundation
import Testing
import TestSupport

/// Checkpoints are HOT updates: no index of opsctl.replay_items holds a column the outcome UPDATE
/// changes and its pages keep room for the new row versions, so recording an outcome writes no index
/// entry. Postgres counts them per table (n_tup_hot_upd among n_tup_upd).
@Suite("Replay checkpoints", .enabled(if: TestDatabase.available), .serialized)
struct ReplayCheckpointTests {
    @Test func everyCheckpointOfANewReplayIsAHeapOnlyUpdate() throws {
        let total = 2_000
        let f = try ReplayFixture(label: "replay_checkpoint_hot")
        try f.seedFailed(total)
        let out = try f.opsctl(["replay", "--failed", "--concurrency", "32", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered' AND attempts = 1") == total)
        let (updates, hot) = try Self.updateCounts(f, atLeast: total)
        #expect(updates == total, "one checkpoint per event")
        #expect(hot == updates, "\(hot) of \(updates) checkpoints were HOT")
    }

    /// Outcomes are checkpointed in batches by a writer on its own connection: an interrupt (which
    /// cancels the statement running on each of the step's connections) still records the batch being
    /// written and the one waiting, so every event whose answer was read is recorded before opsctl
    /// exits (only requests aborted in flight may have been processed without an answer), and its
    /// resume sends only what was not recorded. Writing on the send loop's connection failed this.
    @Test func anInterruptedReplayRecordsEveryAnsweredEventBeforeItExits() throws {
        let total = 3_000
        let concurrency = 16
        let f = try ReplayFixture(label: "replay_checkpoint_interrupt")
        try f.seedFailed(total)
        let worker = try f.spawn(["replay", "--failed", "--rate", "1000/s", "--concurrency", String(concurrency)])
        let started = eventually(timeout: 60) {
            (try? f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'")) ?? 0 >= 500
        }
        #expect(started, "the replay made progress before the interrupt")
        kill(worker.processIdentifier, SIGINT)
        worker.waitUntilExit()
        #expect(worker.terminationStatus == 2, "interrupted: exit code 2")
        let recorded = try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'")
        let processed = try f.count("SELECT count(*) FROM events WHERE processed")
        #expect(recorded < total, "interrupted in the middle")
        #expect(recorded <= processed && processed - recorded <= concurrency,
                "\(processed) processed, \(recorded) recorded: only requests in flight at the interrupt may be unrecorded")

        let resumed = try f.opsctl(["replay", "--resume", "latest", "--concurrency", "16", "--format", "json"])
        #expect(resumed.exitCode == 0, "\(resumed.stdout)\(resumed.stderr)")
        let details = ReplayFixture.results(resumed)["replay"]?["details"] as? [String: Any]
        #expect(details?["delivered"] as? Int == total - recorded, "only what was not recorded is sent again")
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'") == total)
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == total)
    }

    @Test func aSchemaFromAnOlderOpsctlIsUpgradedAndItsReplayResumes() throws {
        let total = 300
        let f = try ReplayFixture(label: "replay_checkpoint_upgrade")
        try f.seedFailed(total)
        // The layout older opsctl created: status in the claim index, pages packed full.
        try f.exec("""
            CREATE SCHEMA opsctl;
            CREATE TABLE opsctl.replays (replay_id text PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), created_by text,
                target text NOT NULL, selection jsonb NOT NULL, total int NOT NULL DEFAULT 0, finished_at timestamptz);
            CREATE TABLE opsctl.replay_items (
                replay_id text NOT NULL REFERENCES opsctl.replays ON DELETE CASCADE, seq int NOT NULL, event_id text NOT NULL,
                event_type text, payload text NOT NULL,
                status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
                attempts int NOT NULL DEFAULT 0, last_http_status int, error text, service_status text, claimed_by text,
                claimed_pid int, claimed_backend_start timestamptz, updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (replay_id, event_id));
            CREATE INDEX replay_items_claim ON opsctl.replay_items (replay_id, status, seq);
            INSERT INTO opsctl.replays (replay_id, target, selection, total) VALUES ('rp-old', 'local', '{"failed": true}', \(total));
            INSERT INTO opsctl.replay_items (replay_id, seq, event_id, event_type, payload)
            SELECT 'rp-old', row_number() OVER (ORDER BY occurred_at, whop_event_id), whop_event_id, type, payload::text FROM events;
            """)
        let out = try f.opsctl(["replay", "--resume", "rp-old", "--concurrency", "16", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE replay_id = 'rp-old' AND status = 'delivered'") == total)
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == total)
        #expect(try f.count("SELECT count(*) FROM pg_indexes WHERE schemaname = 'opsctl' AND indexname = 'replay_items_claim'") == 0)
        #expect(try f.count("SELECT count(*) FROM pg_indexes WHERE schemaname = 'opsctl' AND tablename = 'replay_items'") == 1,
                "one index: the key (replay_id, seq)")
        #expect(try ReplaySchemaTests.keyColumns(f) == "replay_id,seq")
        #expect(try f.count("""
            SELECT count(*) FROM pg_class WHERE oid = 'opsctl.replay_items'::regclass AND 'fillfactor=45' = ANY (reloptions)
            """) == 1)
        // Upgrading again is a no-op: a second run of the finished replay succeeds and sends nothing.
        let again = try f.opsctl(["replay", "--resume", "rp-old", "--format", "json"])
        #expect(again.exitCode == 0, "\(again.stdout)\(again.stderr)")
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == total)
    }

    /// The table's update counters once the replay's backends have reported them (a backend flushes
    /// its statistics as it exits, just after opsctl does): polled, each read on a new connection (a fresh
    /// statistics snapshot).
    static func updateCounts(_ f: ReplayFixture, atLeast expected: Int) throws -> (updates: Int, hot: Int) {
        let deadline = Date().addingTimeInterval(30)
        var counts = (updates: 0, hot: 0)
        repeat {
            counts = (try f.count("SELECT n_tup_upd FROM pg_stat_user_tables WHERE relid = 'opsctl.replay_items'::regclass"),
                      try f.count("SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = 'opsctl.replay_items'::regclass"))
            if counts.updates >= expected { return counts }
            Thread.sleep(forTimeInterval: 0.1)
        } while Date() < deadline
        return counts
    }
}
