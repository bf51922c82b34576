import Foundation
import Postgres
import Support
import Testing
import TestSupport

/// `opsctl backup create|list|verify|restore|prune` and `rollback --mode restore`, end to end: the real
/// binary, pg_dump/pg_restore/psql, the sandbox server, real files.
@Suite("opsctl backup", .enabled(if: TestDatabase.available), .serialized)
struct BackupCommandTests {
    static let migrations = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../examples/churn-saver/migrations").standardized.path

    /// A project whose database is the churn-saver schema at version 7 with `events` rows.
    static func project(events: Int = 50, yaml extra: String = "", protected: Bool = false) throws -> (Project, String) {
        let url = try TestDatabase.fresh("backup")
        let p = Project(databaseURL: url)
        try p.file("opsctl.yaml", """
            environments:
              local:
                protected: \(protected)
                migrations: { dir: \(migrations) }
            backups:
              dir: backups
              count_tables: [recovery_cases, opsctl.schema_migrations]
            \(extra)
            """)
        let apply = try p.opsctl(["run", "migrate", "--param", "dir=\(migrations)", "--no-journal", "--confirm", "local"])
        #expect(apply.exitCode == 0, "\(apply.stdout)\(apply.stderr)")
        try exec(url, """
            INSERT INTO events (whop_event_id, type, payload, company_id, occurred_at)
            SELECT 'evt_' || g, 'payment.failed', '{}'::jsonb, 'co_1', now() FROM generate_series(1, \(events)) g
            """)
        return (p, url)
    }

    static func exec(_ url: String, _ sql: String) throws {
        let db = try PostgresConnection(dsn: url, applicationName: "opsctl-test")
        defer { db.close() }
        _ = try db.execute(sql)
    }

    /// Deletes all but `n` events.
    static func keepEvents(_ url: String, _ n: Int) throws {
        try exec(url, "DELETE FROM events WHERE whop_event_id NOT IN (SELECT whop_event_id FROM events ORDER BY whop_event_id LIMIT \(n))")
    }

    static func count(_ url: String, _ table: String) throws -> Int? {
        try Probe.scalar(url, "SELECT count(*) FROM \(table)").flatMap { Int($0) }
    }

    static func backups(_ p: Project) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: p.dir.path + "/backups")
            .filter { !$0.hasSuffix(".manifest.json") && !$0.hasPrefix(".") }.sorted()
    }

    static func manifest(_ p: Project, _ file: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: p.dir.path + "/backups/" + file + ".manifest.json"))
        return try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Scratch databases left behind: those no verify's session marks as in use (other suites verify
    /// on the same server at the same time).
    static func scratchDatabases(_ url: String) throws -> Int {
        Int(try Probe.scalar(url, """
            SELECT count(*) FROM pg_database d WHERE d.datname LIKE 'opsctl_verify_%'
               AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.application_name = 'opsctl-scratch:' || d.datname)
            """) ?? "") ?? -1
    }

    @Test func createListVerifyCustomAndPlain() throws {
        let (p, url) = try Self.project(events: 120)
        let custom = try p.opsctl(["backup", "create", "--no-journal"])
        #expect(custom.exitCode == 0, "\(custom.stdout)\(custom.stderr)")
        let plain = try p.opsctl(["backup", "create", "--dump-format", "plain", "--no-journal"])
        #expect(plain.exitCode == 0, "\(plain.stdout)\(plain.stderr)")
        let files = try Self.backups(p)
        let dump = try #require(files.first { $0.hasSuffix(".dump") }), sql = try #require(files.first { $0.hasSuffix(".sql") })
        #expect(files.count == 2)
        let written = try Data(contentsOf: URL(fileURLWithPath: p.dir.path + "/backups/" + dump))
        #expect(written.prefix(5) == Data("PGDMP".utf8), "custom format archive")
        let text = try String(contentsOfFile: p.dir.path + "/backups/" + sql, encoding: .utf8)
        #expect(text.contains("CREATE TABLE public.events"), "plain SQL")

        let m = try Self.manifest(p, dump)
        #expect(m["format"] as? String == "custom")
        #expect(m["schema_version"] as? Int == 7)
        #expect(m["environment"] as? String == "local")
        let counts = try #require(m["row_counts"] as? [String: Int])
        #expect(counts["events"] == 120, "the profile's event table is counted")
        #expect(counts["recovery_cases"] == 0)
        #expect(counts["opsctl.schema_migrations"] == 7)
        #expect((m["sha256"] as? String)?.count == 64)
        #expect((m["size_bytes"] as? Int) == written.count)
        #expect((m["server_version"] as? String)?.isEmpty == false)
        #expect(try Self.manifest(p, sql)["format"] as? String == "plain")

        let list = try p.opsctl(["backup", "list", "--format", "json", "--no-journal"])
        #expect(list.exitCode == 0, "\(list.stdout)\(list.stderr)")
        let report = try #require(JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])
        let step = try #require((report["results"] as? [[String: Any]])?.first)
        let listed = try #require((step["details"] as? [String: Any])?["backups"] as? [[String: Any]])
        #expect(Set(listed.compactMap { $0["name"] as? String }) == Set(files))
        #expect(listed.allSatisfy { $0["schema_version"] as? Int == 7 && ($0["size_bytes"] as? Int ?? 0) > 0 && $0["age_seconds"] != nil })

        for file in [dump, sql] {
            let verify = try p.opsctl(["backup", "verify", file, "--no-journal"])
            #expect(verify.exitCode == 0, "\(file): \(verify.stdout)\(verify.stderr)")
            #expect(verify.stdout.contains("sha256 ok"), "\(verify.stdout)")
            #expect(verify.stdout.contains("events 120"), "\(verify.stdout)")
            #expect(verify.stdout.contains("schema 7"), "\(verify.stdout)")
        }
        #expect(try Self.scratchDatabases(url) == 0, "scratch databases are dropped")
    }

    @Test func verifyFailsOnACorruptFileAndOnCountsThatDoNotMatch() throws {
        let (p, url) = try Self.project(events: 30)
        #expect(try p.opsctl(["backup", "create", "--no-journal"]).exitCode == 0)
        let dump = try #require(try Self.backups(p).first)
        let path = p.dir.path + "/backups/" + dump

        // A manifest naming a table the dump does not hold, and a wrong count: both reported, exit 1.
        let manifestPath = path + ".manifest.json"
        let original = try String(contentsOfFile: manifestPath, encoding: .utf8)
        try original.replacingOccurrences(of: "\"events\" : 30", with: "\"events\" : 31")
            .replacingOccurrences(of: "\"row_counts\" : {", with: "\"row_counts\" : {\n    \"ghost_table\" : 5,")
            .write(toFile: manifestPath, atomically: true, encoding: .utf8)
        let mismatch = try p.opsctl(["backup", "verify", "--no-journal"])
        #expect(mismatch.exitCode == 1, "\(mismatch.stdout)\(mismatch.stderr)")
        #expect(mismatch.stdout.contains("table ghost_table is missing"), "\(mismatch.stdout)")
        #expect(mismatch.stdout.contains("events: 30 rows, manifest says 31"), "\(mismatch.stdout)")
        try original.write(toFile: manifestPath, atomically: true, encoding: .utf8)

        // One byte changed in the middle of the archive.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        let corrupt = try p.opsctl(["backup", "verify", dump, "--no-journal"])
        #expect(corrupt.exitCode == 1)
        #expect(corrupt.stdout.contains("sha256 mismatch"), "\(corrupt.stdout)")
        #expect(try Self.scratchDatabases(url) == 0)
    }

    @Test func restoreNeedsTheTypedConfirmationAndReplacesTheDatabase() throws {
        let (p, url) = try Self.project(events: 40, protected: true)
        #expect(try p.opsctl(["backup", "create", "--confirm", "local", "--no-journal"]).exitCode == 0)
        let dump = try #require(try Self.backups(p).first)
        try Self.keepEvents(url, 20)
        try Self.exec(url, "DROP TABLE recovery_actions; CREATE TABLE stray (x int)")

        let refused = try p.opsctl(["backup", "restore", dump, "--no-journal"])
        #expect(refused.exitCode == 2, "\(refused.stdout)\(refused.stderr)")
        #expect(try Self.count(url, "events") == 20, "nothing restored without confirmation")

        let dry = try p.opsctl(["backup", "restore", dump, "--dry-run", "--no-journal"])
        #expect(dry.exitCode == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("safety dump"), "\(dry.stdout)")
        #expect(try Self.count(url, "events") == 20)

        let done = try p.opsctl(["backup", "restore", dump, "--confirm", "local", "--no-journal"])
        #expect(done.exitCode == 0, "\(done.stdout)\(done.stderr)")
        #expect(done.stdout.contains("events 40"), "\(done.stdout)")
        #expect(try Self.count(url, "events") == 40)
        #expect(try Self.count(url, "recovery_actions") == 0, "the dropped table is back")
        #expect(try Probe.scalar(url, "SELECT to_regclass('stray') IS NULL") == "true", "objects made after the backup are gone")
        let safety = try Self.backups(p).filter { $0.contains("pre-restore") }
        #expect(safety.count == 1, "a safety dump was taken first")
        #expect(try Self.manifest(p, try #require(safety.first))["row_counts"].flatMap { ($0 as? [String: Int])?["events"] } == 20)
    }

    @Test func restoresAndVerifiesAPlainPgDumpFileWithoutManifest() throws {
        let (p, url) = try Self.project(events: 25)
        // The runbooks' own `pg_dump > backup.sql`.
        let client = try ClientConnection(dsn: url)
        let dumped = try ProcessRunner.run(["sh", "-c", "pg_dump --dbname=\"$1\" > backup.sql", "dump", client.conninfo],
                                           environment: ProcessInfo.processInfo.environment.merging(client.environment) { $1 },
                                           directory: p.dir.path)
        #expect(dumped.exitCode == 0, "\(dumped.stderr)")
        try Self.exec(url, "TRUNCATE events")

        let verify = try p.opsctl(["backup", "verify", "backup.sql", "--no-journal"])
        #expect(verify.exitCode == 0, "warn only: \(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("no manifest"), "\(verify.stdout)")

        let restore = try p.opsctl(["rollback", "--mode", "restore", "--backup", "backup.sql", "--dir", Self.migrations,
                                    "--confirm", "yes", "--no-journal"])
        #expect(restore.exitCode == 0, "\(restore.stdout)\(restore.stderr)")
        #expect(restore.stdout.contains("restored backup.sql (plain)"), "\(restore.stdout)")
        #expect(try Self.count(url, "events") == 25)
        #expect(restore.stdout.contains("schema at version 7"), "rollback's migrations.verify still runs: \(restore.stdout)")
    }

    @Test func killedMidRestoreLeavesTheDatabaseAsItWasAndARerunWorks() throws {
        let (p, url) = try Self.project(events: 60)
        #expect(try p.opsctl(["backup", "create", "--no-journal"]).exitCode == 0)
        let dump = try #require(try Self.backups(p).first)
        try Self.keepEvents(url, 10)

        // A reader holds a lock on events: the restore's transaction starts, drops what it can and waits.
        let holder = try PostgresConnection(dsn: url, applicationName: "opsctl-test-holder")
        _ = try holder.execute("BEGIN; LOCK TABLE events IN ACCESS SHARE MODE")
        let restore = try p.spawn(["backup", "restore", dump, "--confirm", "yes", "--no-safety-dump", "--no-journal"])
        let waiting = eventually(timeout: 30) {
            (try? Probe.scalar(url, """
                SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                   AND application_name LIKE 'opsctl/%' AND wait_event_type = 'Lock'
                """)) == "1"
        }
        #expect(waiting, "the restore is in its transaction, waiting for the lock")
        kill(restore.processIdentifier, SIGKILL)
        // kill -9 leaves psql orphaned; a crash takes its connection too: the server rolls the transaction back.
        _ = try Probe.scalar(url, """
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name LIKE 'opsctl/%'
            """)
        // (Foundation's Process also waits for the orphans, which hold its descriptors: only now.)
        restore.waitUntilExit()
        _ = try holder.execute("ROLLBACK")
        holder.close()
        #expect(eventually(timeout: 10) {
            (try? Probe.scalar(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'opsctl/%'")) == "0"
        })
        #expect(try Self.count(url, "events") == 10, "the database is exactly as before the restore")
        #expect(try Self.count(url, "opsctl.schema_migrations") == 7)

        let rerun = try p.opsctl(["backup", "restore", dump, "--confirm", "yes", "--no-safety-dump", "--no-journal"])
        #expect(rerun.exitCode == 0, "\(rerun.stdout)\(rerun.stderr)")
        #expect(try Self.count(url, "events") == 60)
    }

    @Test func hooksGetTheFileAsAQuotedVariableAndAFailingHookFails() throws {
        let (p, _) = try Self.project(events: 5, yaml: """
              after_create: "mkdir -p uploaded && cp {file} uploaded/ && echo uploaded {file}"
              before_restore: "test -f {file} && echo fetched {file}"
            """)
        let create = try p.opsctl(["backup", "create", "--no-journal"])
        #expect(create.exitCode == 0, "\(create.stdout)\(create.stderr)")
        let dump = try #require(try Self.backups(p).first)
        #expect(FileManager.default.fileExists(atPath: p.dir.path + "/uploaded/" + dump))

        // A file name that would be a command if it were pasted into the hook.
        let hostile = "a b$(touch pwned).dump"
        try FileManager.default.copyItem(atPath: p.dir.path + "/backups/" + dump, toPath: p.dir.path + "/" + hostile)
        let restore = try p.opsctl(["backup", "restore", hostile, "--confirm", "yes", "--no-safety-dump", "--no-journal"])
        #expect(restore.exitCode == 0, "\(restore.stdout)\(restore.stderr)")
        #expect(!FileManager.default.fileExists(atPath: p.dir.path + "/pwned"))

        try p.file("opsctl.yaml", """
            environments:
              local: {}
            backups:
              dir: backups
              after_create: "echo upload refused >&2; exit 3"
            """)
        let failing = try p.opsctl(["backup", "create", "--no-journal"])
        #expect(failing.exitCode == 1)
        #expect(failing.stdout.contains("after_create hook failed (exit 3): upload refused"), "\(failing.stdout)")
    }

    @Test func pruneKeepsTheNewestOfEachPeriodAndDryRunDeletesNothing() throws {
        let p = Project()
        try p.file("opsctl.yaml", """
            environments:
              local: {}
            backups:
              dir: backups
              keep: { daily: 2, weekly: 1, monthly: 2 }
            """)
        // Fake dumps with manifests dated 0..40 days ago, one a day at 02:00 UTC.
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let today = calendar.date(bySettingHour: 2, minute: 0, second: 0, of: Date())!
        let stamp = ISO8601DateFormatter()
        try FileManager.default.createDirectory(atPath: p.dir.path + "/backups", withIntermediateDirectories: true)
        for day in 0..<40 {
            let date = calendar.date(byAdding: .day, value: -day, to: today)!
            let name = "db-day\(String(format: "%02d", day)).dump"
            try p.file("backups/" + name, "PGDMP fake")
            try p.file("backups/" + name + ".manifest.json", """
                {"file": "\(name)", "format": "custom", "created_at": "\(stamp.string(from: date))", "row_counts": {},
                 "sha256": "", "size_bytes": 10, "duration_ms": 1}
                """)
        }
        let dry = try p.opsctl(["backup", "prune", "--dry-run", "--no-journal"])
        #expect(dry.exitCode == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(try Self.backups(p).count == 40)
        let run = try p.opsctl(["backup", "prune", "--no-journal"])
        #expect(run.exitCode == 0, "\(run.stdout)\(run.stderr)")
        let kept = try Self.backups(p)
        // daily: today, yesterday; weekly: this week's newest (today); monthly: newest of this and last month.
        #expect(kept.contains("db-day00.dump") && kept.contains("db-day01.dump"))
        #expect(kept.count >= 3 && kept.count <= 4, "\(kept)")
        #expect(dry.stdout.contains("would delete \(40 - kept.count) of 40"), "\(dry.stdout)")
        let manifests = try FileManager.default.contentsOfDirectory(atPath: p.dir.path + "/backups").filter { $0.hasSuffix(".manifest.json") }
        #expect(manifests.count == kept.count, "manifests go with their files")
    }

    @Test func aWrongBackupsKeyNamesItsLine() throws {
        let p = Project()
        try p.file("opsctl.yaml", """
            environments:
              local:
                backups: { dir: b, kepp: { daily: 1 } }
            """)
        let out = try p.opsctl(["backup", "list", "--no-journal"])
        #expect(out.exitCode == 65)
        #expect(out.stderr.contains("opsctl.yaml:3:"), "\(out.stderr)")
        #expect(out.stderr.contains("did you mean 'keep'"), "\(out.stderr)")
        try p.file("opsctl.yaml", """
            environments:
              local: {}
            backups:
              keep: { daily: seven }
            """)
        let wrongType = try p.opsctl(["backup", "list", "--no-journal"])
        #expect(wrongType.exitCode == 65)
        #expect(wrongType.stderr.contains("opsctl.yaml:4:"), "\(wrongType.stderr)")
    }
}
