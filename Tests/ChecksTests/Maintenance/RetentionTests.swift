import Foundation
import Postgres
import Testing
import TestSupport
@testable import Checks

/// postgres.retention on real tables: exact final states, archives, boundaries, locks, dry-runs.
@Suite("postgres.retention", .enabled(if: TestDatabase.available), .serialized)
struct RetentionTests {
    static let asOf = "2026-06-01T00:00:00Z"

    /// 300 events, one a minute going back from `asOf` - 25 days; every third is 'pending'.
    func events(_ db: CatalogDatabase, table: String = "events", key: String = "id bigserial PRIMARY KEY") throws {
        try db.sql("""
            CREATE TABLE \(table) (\(key), status text NOT NULL, created_at timestamptz NOT NULL, body text);
            INSERT INTO \(table) (status, created_at, body)
            SELECT CASE WHEN g % 3 = 0 THEN 'pending' ELSE 'processed' END,
                   timestamptz '\(Self.asOf)' - interval '25 days' - g * interval '1 hour', 'row ' || g
              FROM generate_series(1, 300) g;
            """)
    }

    func policy(_ extra: [String: JSONValue] = [:], table: String = "events") -> JSONValue {
        var o: [String: JSONValue] = ["table": .string(table), "time_column": "created_at", "older_than": "30d",
                                      "where": "status = 'processed'", "batch": ["max_rows": 7, "target": "50ms", "pause": "0ms"]]
        for (k, v) in extra { o[k] = v }
        return .object(o)
    }

    func run(_ db: CatalogDatabase, _ policies: [JSONValue], _ extra: [String: JSONValue] = [:]) throws -> StepOutcome {
        var with: [String: JSONValue] = ["policies": .array(policies), "as_of": .string(Self.asOf)]
        for (k, v) in extra { with[k] = v }
        return try db.run(PostgresRetention.self, with)
    }

    func count(_ db: CatalogDatabase, _ sql: String) throws -> Int { try db.value(sql).int ?? -1 }

    @Test func deletesExactlyTheOldProcessedRowsInBatchesAndArchivesThemOnce() throws {
        let db = try CatalogDatabase("ret_archive_table")
        try events(db)
        let expected = try count(db, "SELECT count(*) FROM events WHERE status = 'processed' AND created_at < timestamptz '\(Self.asOf)' - interval '30 days'")
        #expect(expected > 50)
        let before = try db.value("SELECT string_agg(id::text, ',' ORDER BY id) FROM events").string
        let out = try run(db, [policy(["archive": ["table": "events_archive"]])])
        #expect(out.status == .ok, "\(out.message)")
        #expect(out.metric("rows_deleted") == Double(expected))
        let summary = try #require(out.detail("policies")?.array?.first?.object)
        #expect((summary["batches"]?.int ?? 0) > 1, "batches of at most 7 keys: \(summary)")
        #expect(try count(db, "SELECT count(*) FROM events WHERE status = 'processed' AND created_at < timestamptz '\(Self.asOf)' - interval '30 days'") == 0)
        #expect(try count(db, "SELECT count(*) FROM events") == 300 - expected)
        #expect(try count(db, "SELECT count(*) FROM events_archive") == expected)
        #expect(try count(db, "SELECT count(DISTINCT id) FROM events_archive") == expected, "no row archived twice")
        // Every row is in exactly one of the two tables, unchanged.
        #expect(try db.value("SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM events UNION ALL SELECT id FROM events_archive) u").string == before)
        #expect(try count(db, "SELECT count(*) FROM events_archive WHERE status <> 'processed'") == 0)
        #expect(try count(db, "SELECT count(*) FROM opsctl.retention_progress WHERE policy = 'events' AND finished_at IS NOT NULL") == 1)

        let again = try run(db, [policy(["archive": ["table": "events_archive"]])])
        #expect(again.status == .ok && again.message.contains("nothing to delete"), "\(again.message)")
        #expect(try count(db, "SELECT count(*) FROM events_archive") == expected)
    }

    @Test func aRowExactlyAtTheCutoffStays() throws {
        let db = try CatalogDatabase("ret_boundary")
        try db.sql("""
            CREATE TABLE logs (id int PRIMARY KEY, created_at timestamptz NOT NULL);
            INSERT INTO logs VALUES (1, timestamptz '\(Self.asOf)' - interval '90 days'),
                                    (2, timestamptz '\(Self.asOf)' - interval '90 days' - interval '1 microsecond'),
                                    (3, timestamptz '\(Self.asOf)' - interval '89 days');
            """)
        let out = try run(db, [["table": "logs", "time_column": "created_at", "older_than": "90d"]])
        #expect(out.status == .ok, "\(out.message)")
        #expect(try db.value("SELECT string_agg(id::text, ',' ORDER BY id) FROM logs").string == "1,3")
    }

    @Test func aUUIDKeyAndAFileArchiveWrittenAtomically() throws {
        let db = try CatalogDatabase("ret_uuid_file")
        try events(db, key: "id uuid PRIMARY KEY DEFAULT gen_random_uuid()")
        let expected = try count(db, "SELECT count(*) FROM events WHERE status = 'processed' AND created_at < timestamptz '\(Self.asOf)' - interval '30 days'")
        let dir = TemporaryDirectory()
        let file = dir.path + "/events-archive.jsonl"
        let out = try run(db, [policy(["archive": ["file": .string(file)]])])
        #expect(out.status == .ok, "\(out.message)")
        #expect(!FileManager.default.fileExists(atPath: file + ".partial"))
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == expected)
        let ids = Set(lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }.compactMap { $0["id"] as? String })
        #expect(ids.count == expected, "each archived row once, as JSON")
        #expect(try count(db, "SELECT count(*) FROM events") == 300 - expected)
        // A second run must not overwrite the archive.
        try db.sql("INSERT INTO events (status, created_at) VALUES ('processed', '2020-01-01')")
        #expect(throws: StepError.self) { try run(db, [policy(["archive": ["file": .string(file)]])]) }
    }

    @Test func aTableLockedByAnotherSessionFailsThenTheNextRunResumes() throws {
        let db = try CatalogDatabase("ret_locked")
        try events(db)
        let expected = try count(db, "SELECT count(*) FROM events WHERE status = 'processed' AND created_at < timestamptz '\(Self.asOf)' - interval '30 days'")
        let holder = try db.connect("holder")
        defer { holder.close() }
        try holder.execute("BEGIN; LOCK TABLE events IN EXCLUSIVE MODE")
        let locked = try run(db, [policy(["batch": ["max_rows": 7, "lock_timeout": "50ms", "pause": "0ms"]])], ["lock_retries": 2])
        try holder.execute("ROLLBACK")
        #expect(locked.status == .fail, "\(locked.message)")
        #expect(locked.message.contains("lock_timeout") || locked.message.contains("locks"), "\(locked.message)")
        #expect(try count(db, "SELECT count(*) FROM events") == 300, "nothing deleted while locked out")

        let resumed = try run(db, [policy()])
        #expect(resumed.status == .ok, "\(resumed.message)")
        #expect(resumed.message.contains("resumed"), "\(resumed.message)")
        #expect(try count(db, "SELECT count(*) FROM events") == 300 - expected)
    }

    @Test func dryRunCountsPerTableAndThrowsWhereTheRunWould() throws {
        let db = try CatalogDatabase("ret_dry")
        try events(db)
        let context = StepContext(environment: ["DATABASE_URL": db.url], dryRun: true)
        let expected = try count(db, "SELECT count(*) FROM events WHERE status = 'processed' AND created_at < timestamptz '\(Self.asOf)' - interval '30 days'")
        let step = try PostgresRetention(StepParameters(["policies": [policy(["archive": ["table": "events_archive"]])], "as_of": .string(Self.asOf)], stepID: "r"))
        let text = try step.plan(context)
        #expect(text.contains("would delete \(expected) rows of events"), "\(text)")
        #expect(text.contains("batches of up to 7 keys of id") && text.contains("created LIKE events"), "\(text)")
        #expect(try count(db, "SELECT count(*) FROM events") == 300)
        #expect(try db.value("SELECT to_regclass('opsctl.retention_progress')::text").isNull, "a dry-run creates nothing")

        func planError(_ p: JSONValue) -> String {
            do { return try PostgresRetention(StepParameters(["policies": [p]], stepID: "r")).plan(context) } catch { return "\(error)" }
        }
        #expect(planError(policy(table: "nope")).contains("does not exist"))
        #expect(planError(policy(["time_column": "body"])).contains("not a timestamp"))
        #expect(planError(policy(["where": "no_such_column = 1"])).contains("does not plan"))
        try db.sql("CREATE TABLE nokey (created_at timestamptz)")
        #expect(planError(policy(table: "nokey")).contains("no primary key"))
        try db.sql("CREATE TABLE events_archive (id bigint)")
        #expect(planError(policy(["archive": ["table": "events_archive"]])).contains("does not have events's columns"))
        #expect(throws: StepError.self) { try PostgresRetention(StepParameters(["policies": [["table": "t", "time_column": "c", "older_than": "soon"]]])) }
        #expect(throws: StepError.self) { try PostgresRetention(StepParameters(["policies": [["table": "t", "time_column": "c", "older_than": "1d", "batch": ["max_row": 5]]]])) }
    }
}
