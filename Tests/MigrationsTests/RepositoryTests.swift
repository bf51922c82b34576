import Foundation
import Testing
import Postgres
import TestSupport
@testable import Migrations

@Suite struct DefectFixtureTests {
    static var defects: String { Fixtures.root + "/churn-defects" }

    @Test func everyDefectOfTheRealProjectIsDetected() throws {
        let set = try Discovery.load(directory: Self.defects)
        let report = Linter().lint(set)
        func hits(_ rule: String) -> [String] { report.findings.filter { $0.rule == rule }.map { "\($0.location.file):\($0.location.line)" } }
        // Rollback named differently from what the runner looks for.
        #expect(hits("down-pattern-mismatch") == ["002_create_recovery_cases_rollback.sql:1"])
        #expect(report.findings.first { $0.rule == "down-pattern-mismatch" }?.message.contains("002_create_recovery_cases.down.sql") == true)
        // Two migrations sharing one number.
        #expect(hits("duplicate-version").sorted() == ["003_create_creator_settings.sql:1", "003_create_recovery_actions.sql:1"])
        // Depends on a table created by a later number.
        #expect(hits("forward-reference") == ["004_webhook_log_index.sql:1"])
        // Invalid SQL in a late migration, with line and column.
        let syntax = report.findings.filter { $0.rule == "syntax-error" }
        #expect(syntax.map { $0.location.description } == ["006_analytics_view.sql:4:12"])
        // A migration with no rollback at all (and the one whose rollback is misnamed).
        #expect(hits("missing-down").sorted() == ["002_create_recovery_cases.sql:1", "007_cleanup_old_events.sql:1"])
        #expect(!report.passed)
    }

    @Test func theMisnamedRollbackIsFoundWithTheProjectsPattern() throws {
        let set = try Discovery.load(directory: Self.defects, downPattern: "{version}_{name}_rollback.sql")
        #expect(set.migration(2)?.downFile == "002_create_recovery_cases_rollback.sql")
        #expect(!set.problems.contains { $0.file == "002_create_recovery_cases_rollback.sql" })
        // ...and now the `.down.sql` files are the ones the runner would never find.
        #expect(set.problems.filter { $0.rule == "down-pattern-mismatch" }.count == 6)
    }

    @Test func downThatDoesNotRevertIsReported() throws {
        let dir = try TempMigrations([
            "001_a.sql": "CREATE TABLE a (id bigint); CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1';",
            "001_a.down.sql": "DROP TABLE a;",
        ])
        let report = Linter().lint(try Discovery.load(directory: dir.directory))
        #expect(report.findings.filter { $0.rule == "down-does-not-revert" }.map(\.message) == ["does not drop what 001_a.sql creates: function f"])
    }

    @Test func referenceMigrationsPassLint() throws {
        let set = try Discovery.load(directory: Fixtures.reference)
        #expect(set.migrations.count >= 7)
        let report = Linter().lint(set)
        #expect(report.findings.isEmpty, "\(report.findings.map(\.description))")
    }
}

@Suite(.enabled(if: TestDatabase.available), .serialized) struct RehearseTests {
    static var server: String { TestDatabase.sandbox.url() }

    @Test func referenceMigrationsRehearseCleanly() throws {
        _ = try TestDatabase.fresh("rehearse_warmup")
        let report = try Rehearsal(config: MigrationConfig(directory: Fixtures.reference), serverDSN: Self.server).run()
        #expect(report.passed, "\(report.message)")
        #expect(report.steps.filter { $0.phase == "down" && $0.ok }.count == report.migrations)
    }

    @Test func rehearseReportsTheFirstDownThatDoesNotRestore() throws {
        _ = try TestDatabase.fresh("rehearse_warmup2")
        let dir = try TempMigrations([
            "001_a.sql": "CREATE TABLE a (id bigint);", "001_a.down.sql": "DROP TABLE a;",
            "002_b.sql": "ALTER TABLE a ADD COLUMN b text; CREATE INDEX a_b ON a (b);", "002_b.down.sql": "DROP INDEX a_b;",
            "003_c.sql": "CREATE TABLE c (id bigint);", "003_c.down.sql": "DROP TABLE c;",
        ])
        let report = try Rehearsal(config: dir.config(), serverDSN: Self.server).run()
        #expect(!report.passed)
        #expect(report.firstNonRestoringDown?.version == 2)
        #expect(report.firstNonRestoringDown?.difference.contains { $0.contains("column a.b") } == true)
    }

    @Test func rehearseReportsAMigrationThatFailsOnAFreshDatabase() throws {
        _ = try TestDatabase.fresh("rehearse_warmup3")
        let dir = try TempMigrations([
            "001_idx.sql": "CREATE INDEX l_c ON logs (created_at);", "001_idx.down.sql": "DROP INDEX l_c;",
            "002_logs.sql": "CREATE TABLE logs (created_at timestamptz);", "002_logs.down.sql": "DROP TABLE logs;",
        ])
        let report = try Rehearsal(config: dir.config(), serverDSN: Self.server).run()
        #expect(report.freshFailure?.location?.file == "001_idx.sql")
        #expect(report.freshFailure?.sqlState == "42P01")
    }
}

@Suite(.enabled(if: TestDatabase.available), .serialized) struct RepairBaselineNewTests {
    @Test func partialNonTransactionalMigrationIsExplainedAndRepaired() throws {
        let dir = try TempMigrations([
            "001_t.sql": "CREATE TABLE t (a text, b text);", "001_t.down.sql": "DROP TABLE t;",
            "002_idx.sql": "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_b ON t (nope);\n",
            "002_idx.down.sql": "DROP INDEX CONCURRENTLY IF EXISTS t_b;\nDROP INDEX CONCURRENTLY IF EXISTS t_a;\n",
        ])
        let url = try TestDatabase.fresh("repair")
        let m = try Migrator(config: dir.config(), dsn: url)
        let r = try m.apply()
        let f = try #require(r.failure)
        #expect(f.statementIndex == 1)
        #expect(f.location == SourceLocation(file: "002_idx.sql", line: 2, column: 1))
        #expect(f.sqlState == "42703")
        let status = try m.status()
        #expect(status.versions.first { $0.version == 2 }?.state == .failed)
        #expect(status.blocksApply)
        let ev = try m.evidence(version: 2)
        #expect(ev.entry?.statementsDone == 1)
        #expect(ev.failingLocation?.line == 2)
        #expect(ev.objects.map { "\($0.object) \($0.exists)" } == ["index t_a true", "index t_b false"])
        #expect(ev.lines.contains { $0.contains("SQLSTATE: 42703") })

        try m.markRolledBack(version: 2, reason: "dropped t_a by hand")
        #expect(try m.status().versions.first { $0.version == 2 }?.state == .pending)
        try dir.write("002_idx.sql", "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_b ON t (b);\n")
        #expect(try m.apply().completed.map(\.version) == [2])
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations_events WHERE action LIKE 'repair%'") == "1")
    }

    @Test func baselineAdoptsAnExistingDatabaseFromTheOldRunnersTable() throws {
        let dir = try TempMigrations([
            "001_a.sql": "CREATE TABLE a (id bigint);", "001_a.down.sql": "DROP TABLE a;",
            "002_b.sql": "CREATE TABLE b (id bigint);", "002_b.down.sql": "DROP TABLE b;",
            "003_c.sql": "CREATE TABLE c (id bigint);", "003_c.down.sql": "DROP TABLE c;",
        ])
        let url = try TestDatabase.fresh("baseline")
        let db = try PostgresConnection(dsn: url)
        defer { db.close() }
        try db.execute("CREATE TABLE a (id bigint); CREATE TABLE b (id bigint); CREATE TABLE migrations (filename text); INSERT INTO migrations VALUES ('001_a.sql'), ('002_b.sql');")
        let m = try Migrator(config: dir.config(), dsn: url)
        #expect(try m.baseline(version: nil, importFrom: "public.migrations", column: "filename") == [1, 2])
        #expect(try m.status().pending.map(\.version) == [3])
        #expect(try m.apply().completed.map(\.version) == [3])
        #expect(try m.verify().ok)
    }

    @Test func newWritesTheNextNumberWithTimeouts() throws {
        let dir = try TempMigrations(["007_a.sql": "SELECT 1;", "007_a.down.sql": "SELECT 1;"])
        let files = try NewMigration.create(name: "Add Churn Index!", config: dir.config())
        #expect(files == ["008_add_churn_index.sql", "008_add_churn_index.down.sql"])
        let up = try String(contentsOfFile: dir.directory + "/008_add_churn_index.sql", encoding: .utf8)
        #expect(up.contains("SET lock_timeout") && up.contains("SET statement_timeout"))
        let single = try NewMigration.create(name: "x", config: dir.config(), single: true)
        #expect(single == ["009_x.sql"])
        #expect(try Discovery.load(directory: dir.directory).migration(9)?.down != nil)
    }
}
