import Foundation
import Testing
import TestSupport

/// The checkpoint tables' layout: one index (the key replay_id, seq), no foreign key checked per
/// inserted item, deletes of replays following to their items, tables of older opsctl upgraded once,
/// current tables left alone (one catalog read), outcomes written by seq.
@Suite("Replay schema", .enabled(if: TestDatabase.available), .serialized)
struct ReplaySchemaTests {
    /// The layout opsctl wrote before its items lost the foreign key and the (replay_id, event_id) key.
    static let foreignKeyLayout = """
        CREATE SCHEMA opsctl;
        CREATE TABLE opsctl.replays (replay_id text PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), created_by text,
            target text NOT NULL, selection jsonb NOT NULL, total int NOT NULL DEFAULT 0, finished_at timestamptz,
            rate double precision, concurrency int);
        CREATE TABLE opsctl.replay_items (
            replay_id text NOT NULL REFERENCES opsctl.replays ON DELETE CASCADE, seq int NOT NULL, event_id text NOT NULL,
            event_type text, payload text NOT NULL,
            status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
            attempts int NOT NULL DEFAULT 0, last_http_status int, error text, service_status text, claimed_by text,
            claimed_pid int, claimed_backend_start timestamptz, updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (replay_id, event_id)) WITH (fillfactor = 45);
        CREATE INDEX replay_items_seq ON opsctl.replay_items (replay_id, seq);
        CREATE TABLE opsctl.replay_runs (run_id text PRIMARY KEY, replay_id text NOT NULL REFERENCES opsctl.replays ON DELETE CASCADE);
        """

    static func keyColumns(_ f: ReplayFixture) throws -> String {
        try f.service.value("""
            SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM pg_constraint c
              CROSS JOIN unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
             WHERE c.conrelid = 'opsctl.replay_items'::regclass AND c.contype = 'p'
            """).string ?? ""
    }

    static func delivered(_ f: ReplayFixture, _ replay: String) throws -> Int {
        try f.count("SELECT count(*) FROM opsctl.replay_items WHERE replay_id = '\(replay)' AND status = 'delivered'")
    }

    @Test func itemsWithTheForeignKeyAreUpgradedAndBothOldAndNewReplaysWork() throws {
        let old = 300, more = 100
        let f = try ReplayFixture(label: "replay_schema_fk")
        try f.seedFailed(old)
        try f.exec(Self.foreignKeyLayout + """
            INSERT INTO opsctl.replays (replay_id, target, selection, total) VALUES ('rp-fk', 'local', '{"ids_file": "x"}', \(old));
            INSERT INTO opsctl.replay_items (replay_id, seq, event_id, event_type, payload)
            SELECT 'rp-fk', row_number() OVER (ORDER BY occurred_at, whop_event_id), whop_event_id, type, payload::text FROM events;
            """)
        try f.seedFailed(more, prefix: "evt_more_")

        let resumed = try f.opsctl(["replay", "--resume", "rp-fk", "--concurrency", "16", "--format", "json"])
        #expect(resumed.exitCode == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(try Self.delivered(f, "rp-fk") == old)
        #expect(try f.count("SELECT count(*) FROM pg_constraint WHERE conrelid = 'opsctl.replay_items'::regclass AND contype = 'f'") == 0,
                "the foreign key is gone")
        #expect(try Self.keyColumns(f) == "replay_id,seq")
        #expect(try f.count("SELECT count(*) FROM pg_indexes WHERE schemaname = 'opsctl' AND tablename = 'replay_items'") == 1,
                "one index: the key")

        // A new replay on the upgraded table: only the events the old one did not cover are still failed.
        let created = try f.opsctl(["replay", "--failed", "--concurrency", "16", "--format", "json"])
        #expect(created.exitCode == 0, "\(created.stdout)\(created.stderr)")
        let newID = text((ReplayFixture.results(created)["replay"]?["details"] as? [String: Any])?["replay_id"])
        #expect(try Self.delivered(f, newID) == more)
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == old + more)
    }

    /// What ON DELETE CASCADE did, kept by statement triggers on opsctl.replays: deleting replays (or
    /// truncating the table) removes their items in the same transaction, and only theirs.
    @Test func deletingAReplayRemovesItsItemsAndRunsOnly() throws {
        let f = try ReplayFixture(label: "replay_schema_delete")
        try f.seedFailed(40)
        try f.seedFailed(30, prefix: "evt_other_", type: "membership_went_valid")
        let first = try f.opsctl(["replay", "--failed", "--type", "payment_failed", "--format", "json"])
        #expect(first.exitCode == 0, "\(first.stdout)\(first.stderr)")
        let second = try f.opsctl(["replay", "--failed", "--type", "membership_went_valid", "--format", "json"])
        #expect(second.exitCode == 0, "\(second.stdout)\(second.stderr)")
        let gone = text((ReplayFixture.results(first)["replay"]?["details"] as? [String: Any])?["replay_id"])
        let kept = text((ReplayFixture.results(second)["replay"]?["details"] as? [String: Any])?["replay_id"])
        #expect(!gone.isEmpty && !kept.isEmpty && gone != kept)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE replay_id = '\(gone)'") == 40)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_runs WHERE replay_id = '\(gone)'") == 1)

        try f.exec("DELETE FROM opsctl.replays WHERE replay_id = '\(gone)'")
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE replay_id = '\(gone)'") == 0)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_runs WHERE replay_id = '\(gone)'") == 0)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE replay_id = '\(kept)'") == 30)

        try f.exec("TRUNCATE opsctl.replays CASCADE")
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items") == 0)
    }

    /// Tables already current are not touched (their triggers are not recreated); tables that are not
    /// (an older opsctl's comment, or none) get the DDL again and are marked current.
    @Test func currentTablesAreLeftAloneAndOthersUpgraded() throws {
        let f = try ReplayFixture(label: "replay_schema_current")
        try f.seedFailed(20)
        let trigger = "SELECT oid::int FROM pg_trigger WHERE tgname = 'replays_delete_items'"
        let comment = "SELECT obj_description('opsctl.replay_items'::regclass, 'pg_class')"
        #expect(try f.opsctl(["replay", "--failed", "--format", "json"]).exitCode == 0)
        let made = try f.count(trigger)
        let version = try f.service.value(comment).string ?? ""
        #expect(version.contains("schema"))

        try f.seedFailed(20, prefix: "evt_later_")
        #expect(try f.opsctl(["replay", "--failed", "--format", "json"]).exitCode == 0)
        #expect(try f.count(trigger) == made, "current tables: no DDL")

        try f.exec("COMMENT ON TABLE opsctl.replay_items IS NULL")
        try f.seedFailed(20, prefix: "evt_latest_")
        #expect(try f.opsctl(["replay", "--failed", "--format", "json"]).exitCode == 0)
        #expect(try f.count(trigger) != made, "not marked current: the DDL ran again")
        #expect(try f.service.value(comment).string == version)
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == 60)
    }

    /// The replay's tables as the catalog describes them: columns, constraints, indexes, triggers,
    /// storage options and the version comment (sorted lines, names included).
    static func layout(_ f: ReplayFixture) throws -> String {
        try f.service.value("""
            SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
              SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                     || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') AS x
                FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
               WHERE c.relnamespace = 'opsctl'::regnamespace AND c.relkind = 'r' AND c.relname LIKE 'replay%'
                 AND a.attnum > 0 AND NOT a.attisdropped
              UNION ALL SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                FROM pg_constraint WHERE connamespace = 'opsctl'::regnamespace AND conrelid::regclass::text LIKE 'opsctl.replay%'
              UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'opsctl' AND tablename LIKE 'replay%'
              UNION ALL SELECT 'trigger ' || pg_get_triggerdef(oid) FROM pg_trigger
               WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'opsctl.replay%'
              UNION ALL SELECT 'options ' || relname || ' ' || coalesce(reloptions::text, '') FROM pg_class
               WHERE relnamespace = 'opsctl'::regnamespace AND relkind = 'r' AND relname LIKE 'replay%'
              UNION ALL SELECT 'function ' || pg_get_functiondef(p.oid) FROM pg_proc p WHERE p.pronamespace = 'opsctl'::regnamespace
              UNION ALL SELECT 'comment ' || coalesce(obj_description('opsctl.replay_items'::regclass, 'pg_class'), '')
            ) s
            """).string ?? ""
    }

    /// Tables made on a database that has none (plain CREATEs, no upgrade block) are the very tables an
    /// older layout is upgraded to, and a replay on them works.
    @Test func freshTablesAreTheUpgradedOnes() throws {
        let fresh = try ReplayFixture(label: "replay_schema_fresh")
        try fresh.seedFailed(30)
        let made = try fresh.opsctl(["replay", "--failed", "--format", "json"])
        #expect(made.exitCode == 0, "\(made.stdout)\(made.stderr)")
        #expect(try fresh.count("SELECT count(*) FROM events WHERE processed") == 30)

        let old = try ReplayFixture(label: "replay_schema_old")
        try old.seedFailed(30)
        try old.exec(Self.foreignKeyLayout)
        let upgraded = try old.opsctl(["replay", "--failed", "--format", "json"])
        #expect(upgraded.exitCode == 0, "\(upgraded.stdout)\(upgraded.stderr)")

        let layout = try Self.layout(fresh)
        #expect(layout.contains("trigger CREATE TRIGGER replays_delete_items"))
        #expect(layout.contains("PRIMARY KEY (replay_id, seq)"))
        #expect(layout == (try Self.layout(old)))
    }

    /// Replays started at once on a database without schema opsctl: their journals and their replays all
    /// create tables in it at the same time (under one lock), and every run succeeds and is journaled.
    @Test func replaysStartedAtOnceOnADatabaseWithoutTheSchemaAllSucceed() throws {
        let f = try ReplayFixture(label: "replay_schema_race")
        try f.seedFailed(60)
        var runs: [Process] = []
        for i in 0..<3 {
            _ = try f.dir.write("ids\(i).txt", (1...20).map { "evt_seed_\(i * 20 + $0)" }.joined(separator: "\n"))
            runs.append(try f.spawn(["replay", "--ids", "ids\(i).txt", "--format", "json"]))
        }
        for run in runs { run.waitUntilExit() }
        #expect(runs.map(\.terminationStatus) == [0, 0, 0])
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == 60)
        #expect(try f.count("SELECT count(*) FROM opsctl.runs WHERE status = 'ok'") == 3)
        #expect(try f.count("SELECT count(*) FROM opsctl.step_results WHERE step_id = 'replay' AND status = 'ok'") == 3)
    }

    /// A batch whose outcomes differ (here `duplicate` for the events processed before, `processed` for
    /// the others) records each on its own event, found by seq.
    @Test func outcomesThatDifferWithinABatchAreEachRecordedOnTheirEvent() throws {
        let f = try ReplayFixture(label: "replay_schema_mixed")
        try f.seedFailed(50)
        _ = try f.dir.write("first.txt", (1...20).map { "evt_seed_\($0)" }.joined(separator: "\n"))
        #expect(try f.opsctl(["replay", "--ids", "first.txt", "--format", "json"]).exitCode == 0)
        let all = try f.opsctl(["replay", "--since", "3h", "--format", "json"])
        #expect(all.exitCode == 0, "\(all.stdout)\(all.stderr)")
        let id = text((ReplayFixture.results(all)["replay"]?["details"] as? [String: Any])?["replay_id"])
        func count(_ condition: String) throws -> Int {
            try f.count("SELECT count(*) FROM opsctl.replay_items WHERE replay_id = '\(id)' AND \(condition)")
        }
        #expect(try count("status = 'delivered' AND attempts = 1 AND last_http_status = 200") == 50)
        #expect(try count("service_status = 'duplicate'") == 20)
        #expect(try count("service_status = 'duplicate' AND substr(event_id, 10)::int <= 20") == 20)
        #expect(try count("service_status = 'processed' AND substr(event_id, 10)::int > 20") == 30)
    }
}
