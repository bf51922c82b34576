import Foundation
import Postgres
import Testing
import TestSupport

/// `opsctl migrate ...` end to end through the real binary against the sandbox: the lifecycle, kill -9
/// in and outside a transaction, ten concurrent appliers, protected environments and bad SQL.
@Suite("opsctl migrate", .enabled(if: TestDatabase.available), .serialized)
struct MigrateCommandTests {
    static let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../examples/churn-saver/migrations").standardized.path

    func scalar(_ url: String, _ sql: String) throws -> String? { try Probe.scalar(url, sql) }

    func running(_ url: String, _ marker: String) -> Bool { Probe.running(url, marker) }

    func historyRows(_ url: String, where condition: String = "true") throws -> Int {
        Int(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations WHERE \(condition)") ?? "") ?? -1
    }

    // MARK: - lifecycle

    @Test func statusApplyVerifyRollbackStatus() throws {
        let url = try TestDatabase.fresh("migrate_cli")
        let p = Project(databaseURL: url)
        let dir = ["--dir", Self.reference]

        let before = try p.opsctl(["migrate", "status"] + dir)
        #expect(before.exitCode == 0, "\(before.stdout)\(before.stderr)")
        #expect(before.stdout.contains("at version 0: 0 applied, 7 pending"), "\(before.stdout)")

        let dry = try p.opsctl(["migrate", "apply", "--dry-run"] + dir)
        #expect(dry.exitCode == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("DRY RUN"))
        #expect(dry.stdout.contains("would apply 7 migration(s): 1, 2, 3, 4, 5, 6, 7"), "\(dry.stdout)")
        #expect(try scalar(url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == "0",
                "a dry run creates nothing")
        #expect(try scalar(url, "SELECT to_regclass('opsctl.schema_migrations')::text") == nil)

        let apply = try p.opsctl(["migrate", "apply"] + dir)
        #expect(apply.exitCode == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(apply.stdout.contains("applied 7 migration(s): database at version 7"), "\(apply.stdout)")
        #expect(try historyRows(url, where: "status = 'applied'") == 7)

        let after = try p.opsctl(["migrate", "status"] + dir)
        #expect(after.exitCode == 0)
        #expect(after.stdout.contains("at version 7: 7 applied, 0 pending"), "\(after.stdout)")

        let verify = try p.opsctl(["migrate", "verify"] + dir)
        #expect(verify.exitCode == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("schema at version 7: 7 applied migration(s)"), "\(verify.stdout)")

        let rollback = try p.opsctl(["migrate", "rollback", "--steps", "1"] + dir)
        #expect(rollback.exitCode == 0, "\(rollback.stdout)\(rollback.stderr)")
        #expect(rollback.stdout.contains("rolled back 1 migration(s): database at version 6"), "\(rollback.stdout)")

        let last = try p.opsctl(["migrate", "status"] + dir)
        #expect(last.exitCode == 0)
        #expect(last.stdout.contains("at version 6: 6 applied, 1 pending"), "\(last.stdout)")
        #expect(try historyRows(url) == 6)
    }

    @Test func lintNamesFileLineAndRule() throws {
        let p = Project()
        let file = try p.file("migrations/001_index.sql", """
            -- an index on a table that already holds data
            CREATE INDEX events_company ON events (company_id);

            """)
        let out = try p.opsctl(["migrate", "lint", file, "--no-journal"])
        #expect(out.exitCode == 1, "\(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("001_index.sql:2:1 error require-concurrent-index-creation "), "\(out.stdout)")
        #expect(out.stdout.contains("CONCURRENTLY"), "the safe alternative is named")
    }

    @Test func newCreatesTheNextNumberedPair() throws {
        let p = Project()
        try p.file("migrations/001_first.sql", "CREATE TABLE first (id bigint);\n")
        try p.file("migrations/001_first.down.sql", "DROP TABLE first;\n")
        try p.file("migrations/002_second.sql", "CREATE TABLE second (id bigint);\n")
        try p.file("migrations/002_second.down.sql", "DROP TABLE second;\n")
        let out = try p.opsctl(["migrate", "new", "add_events_source_index", "--no-journal"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let up = p.dir.path + "/migrations/003_add_events_source_index.sql"
        let down = p.dir.path + "/migrations/003_add_events_source_index.down.sql"
        #expect(out.stdout.contains("003_add_events_source_index.sql"))
        #expect(out.stdout.contains("003_add_events_source_index.down.sql"))
        let text = try String(contentsOfFile: up, encoding: .utf8)
        #expect(text.contains("lock_timeout"))
        #expect(text.contains("statement_timeout"))
        #expect(FileManager.default.fileExists(atPath: down))
    }

    // MARK: - kill -9

    @Test func killNineInATransactionalMigrationLeavesNothingAndTheNextApplySucceeds() throws {
        let url = try TestDatabase.fresh("migrate_kill_tx")
        let p = Project(databaseURL: url)
        try p.file("migrations/001_base.sql", "CREATE TABLE base (id bigint);\n")
        try p.file("migrations/001_base.down.sql", "DROP TABLE base;\n")
        try p.file("migrations/002_slow.sql", "CREATE TABLE slow (id bigint);\nSELECT pg_sleep(30);\n")
        try p.file("migrations/002_slow.down.sql", "DROP TABLE slow;\n")
        let first = try p.opsctl(["migrate", "apply", "--to", "1"])
        #expect(first.exitCode == 0, "\(first.stdout)\(first.stderr)")

        let victim = try p.spawn(["migrate", "apply"])
        let seen = eventually(timeout: 60) { running(url, "pg_sleep(30)") }
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        #expect(seen, "the migration's pg_sleep never showed in pg_stat_activity")
        #expect(victim.terminationReason == .uncaughtSignal)

        // The server notices the dead client and rolls its transaction back (not after the 30 s sleep).
        #expect(eventually(timeout: 20) { !running(url, "pg_sleep(30)") }, "the orphaned statement kept running")
        #expect(try scalar(url, "SELECT to_regclass('slow')::text") == nil, "nothing of 002 is applied")
        #expect(try historyRows(url, where: "version = 2") == 0, "002 is neither applied nor marked failed")
        let status = try p.opsctl(["migrate", "status"])
        #expect(status.exitCode == 0, "\(status.stdout)")
        #expect(status.stdout.contains("at version 1: 1 applied, 1 pending"), "\(status.stdout)")

        try p.file("migrations/002_slow.sql", "CREATE TABLE slow (id bigint);\nSELECT pg_sleep(0.1);\n")
        let again = try p.opsctl(["migrate", "apply"])
        #expect(again.exitCode == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("applied 1 migration(s): database at version 2"), "\(again.stdout)")
        #expect(try scalar(url, "SELECT to_regclass('slow')::text") == "slow")
        #expect(try historyRows(url, where: "status = 'applied'") == 2)
    }

    @Test func killNineInANonTransactionalMigrationIsRecordedAsPartial() throws {
        let url = try TestDatabase.fresh("migrate_kill_notx")
        let p = Project(databaseURL: url)
        try p.file("migrations/001_partial.sql", """
            -- opsctl:no-transaction
            CREATE TABLE partial_t (a text);
            SELECT pg_sleep(30);
            CREATE INDEX partial_t_a ON partial_t (a);

            """)
        try p.file("migrations/001_partial.down.sql", "DROP TABLE partial_t;\n")

        let victim = try p.spawn(["migrate", "apply"])
        let seen = eventually(timeout: 60) { running(url, "pg_sleep(30)") }
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        #expect(seen, "the migration's pg_sleep never showed in pg_stat_activity")

        #expect(try scalar(url, "SELECT status || ' ' || statements_done || '/' || statements_total FROM opsctl.schema_migrations WHERE version = 1")
                == "partial 1/3")
        #expect(try scalar(url, "SELECT to_regclass('partial_t')::text") == "partial_t", "statement 1 ran and stays")

        let status = try p.opsctl(["migrate", "status"])
        #expect(status.exitCode == 1, "a partial migration blocks apply: \(status.stdout)")
        #expect(status.stdout.contains("partial"), "\(status.stdout)")
        #expect(status.stdout.contains("1 of 3"), "\(status.stdout)")

        let apply = try p.opsctl(["migrate", "apply"])
        #expect(apply.exitCode == 1, "\(apply.stdout)")
        #expect(try historyRows(url, where: "status = 'applied'") == 0)

        let repair = try p.opsctl(["migrate", "repair", "1"])
        let text = repair.stdout + repair.stderr
        #expect(text.contains("1 of 3"), "\(text)")
        #expect(text.contains("partial_t"), "names the objects and whether they exist: \(text)")
        #expect(text.contains("partial_t_a"), "\(text)")
    }

    // MARK: - concurrency

    @Test func tenConcurrentAppliersApplyEachMigrationOnce() throws {
        let url = try TestDatabase.fresh("migrate_concurrent")
        let p = Project(databaseURL: url)
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (k, v) in p.env { env[k] = v }
        var processes: [(Process, String)] = []
        for i in 0..<10 {
            let out = p.dir.path + "/out-\(i).txt"
            _ = FileManager.default.createFile(atPath: out, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
            let proc = Process()
            proc.executableURL = URL(fileURLWithPath: Opsctl.binary)
            proc.arguments = ["migrate", "apply", "--dir", Self.reference]
            proc.currentDirectoryURL = URL(fileURLWithPath: p.dir.path)
            proc.environment = env
            proc.standardOutput = handle
            proc.standardError = handle
            processes.append((proc, out))
        }
        for (proc, _) in processes { try proc.run() }
        for (proc, _) in processes { proc.waitUntilExit() }
        let outputs = try processes.map { try String(contentsOfFile: $0.1, encoding: .utf8) }

        for (i, (proc, _)) in processes.enumerated() {
            #expect(proc.terminationStatus == 0, "process \(i): \(outputs[i])")
        }
        #expect(try historyRows(url) == 7)
        #expect(try scalar(url, "SELECT count(DISTINCT version) FROM opsctl.schema_migrations WHERE status = 'applied'") == "7")
        let appliers = outputs.filter { $0.contains("applied 7 migration(s)") }
        let idle = outputs.filter { $0.contains("found nothing to do: database at version 7") }
        #expect(appliers.count == 1, "\(outputs.joined(separator: "\n"))")
        #expect(idle.count == 9, "\(outputs.joined(separator: "\n"))")
    }

    // MARK: - protected environments

    @Test func protectedEnvironmentNeedsConfirmation() throws {
        let url = try TestDatabase.fresh("migrate_protected")
        let p = Project(databaseURL: url)
        try p.file("opsctl.yaml", """
            environments:
              production:
                protected: true
                migrations: { dir: \(Self.reference) }

            """)
        let refused = try p.opsctl(["migrate", "apply", "--env", "production"])
        #expect(refused.exitCode == 2, "\(refused.stdout)\(refused.stderr)")
        #expect((refused.stdout + refused.stderr).contains("--confirm production"))
        #expect(try scalar(url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == "0")
        #expect(try scalar(url, "SELECT to_regclass('opsctl.schema_migrations')::text") == nil)

        let applied = try p.opsctl(["migrate", "apply", "--env", "production", "--confirm", "production"])
        #expect(applied.exitCode == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("database at version 7"), "\(applied.stdout)")
        #expect(try historyRows(url, where: "status = 'applied'") == 7)
    }

    // MARK: - bad SQL

    @Test func failingStatementNamesFileLineColumnAndSQLState() throws {
        let url = try TestDatabase.fresh("migrate_bad_sql")
        let p = Project(databaseURL: url)
        try p.file("migrations/001_ok.sql", "CREATE TABLE ok1 (id bigint);\n")
        try p.file("migrations/001_ok.down.sql", "DROP TABLE ok1;\n")
        try p.file("migrations/002_bad.sql", "CREATE TABLE ok2 (id bigint);\nINSERT INTO nosuch VALUES (1);\n")
        try p.file("migrations/002_bad.down.sql", "DROP TABLE ok2;\n")
        let out = try p.opsctl(["migrate", "apply"])
        #expect(out.exitCode == 1, "\(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("002_bad.sql:2:13"), "\(out.stdout)")
        #expect(out.stdout.contains("SQLSTATE 42P01"), "\(out.stdout)")
        #expect(try historyRows(url, where: "version = 2 AND status = 'applied'") == 0)
        #expect(try historyRows(url, where: "version = 1 AND status = 'applied'") == 1, "the good one before it stays applied")
        #expect(try scalar(url, "SELECT to_regclass('ok2')::text") == nil, "002 rolled back as a whole")
    }

    @Test func unparsableMigrationIsInvalidInput() throws {
        let url = try TestDatabase.fresh("migrate_parse_error")
        let p = Project(databaseURL: url)
        try p.file("migrations/001_syntax.sql", "CREATE TABLE fine (id bigint);\nCREATE TABLE oops (id bigint,,);\n")
        try p.file("migrations/001_syntax.down.sql", "DROP TABLE oops;\nDROP TABLE fine;\n")
        let out = try p.opsctl(["migrate", "apply"])
        #expect(out.exitCode == 65, "exit-code contract: 65 for an invalid migration file: \(out.stdout)\(out.stderr)")
        let text = out.stdout + out.stderr
        #expect(text.contains("001_syntax.sql:2:30"), "\(text)")
        #expect(text.contains("SQLSTATE 42601"), "\(text)")
        #expect(try scalar(url, "SELECT to_regclass('fine')::text") == nil)
        #expect(try scalar(url, "SELECT to_regclass('opsctl.schema_migrations')::text") == nil, "nothing recorded")
    }
}
