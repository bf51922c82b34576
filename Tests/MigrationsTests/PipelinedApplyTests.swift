import Foundation
import Testing
import Postgres
import TestSupport
@testable import Migrations

/// A transactional migration runs as one libpq pipeline (BEGIN, timeouts, its statements, the checks of
/// what it creates, its history row and event, COMMIT): whatever fails in it is reported as precisely as
/// statement by statement — file:line:col from the server's position, SQLSTATE, statement — and leaves
/// nothing of the migration applied, with a `failed` history row and an `apply-failed` event.
@Suite(.enabled(if: TestDatabase.available), .serialized) struct PipelinedApplyTests {
    /// Four statements after a comment line; `broken` (0-based: the first, a middle one, the last)
    /// replaces one of them with a mistake the server finds, with a position, only when it runs it.
    static func migration(breaking broken: Int) -> (sql: String, line: Int, column: Int, sqlState: String) {
        var lines = [
            "-- four statements, one of them wrong",
            "CREATE TABLE p (id bigint PRIMARY KEY, name text);",
            "INSERT INTO p (id, name) VALUES (1, 'a');",
            "CREATE INDEX p_name ON p (name);",
            "UPDATE p SET name = 'b' WHERE id = 1;",
        ]
        let mistakes = [
            0: ("CREATE TABLE p (id bigint PRIMARY KEY, name txet);", "txet", "42704"),
            1: ("INSERT INTO p (id, name) VALUES (1, nmae);", "nmae", "42703"),
            3: ("UPDATE p SET name = 'b' WHERE idd = 1;", "idd", "42703"),
        ]
        let (wrong, token, state) = mistakes[broken]!
        lines[broken + 1] = wrong
        let column = wrong.distance(from: wrong.startIndex, to: wrong.range(of: token)!.lowerBound) + 1
        return (lines.joined(separator: "\n") + "\n", broken + 2, column, state)
    }

    @Test(arguments: [0, 1, 3])
    func aFailingStatementIsReportedAtItsFileLineAndColumn(broken: Int) throws {
        let bad = Self.migration(breaking: broken)
        let dir = try TempMigrations([
            "001_ok.sql": "CREATE TABLE ok (id bigint);\n", "001_ok.down.sql": "DROP TABLE ok;\n",
            "002_four.sql": bad.sql, "002_four.down.sql": "DROP TABLE p;\n",
            "003_after.sql": "CREATE TABLE after (id bigint);\n", "003_after.down.sql": "DROP TABLE after;\n",
        ])
        let url = try TestDatabase.fresh("pipelined_stmt_\(broken)")
        let r = try Migrator(config: dir.config(), dsn: url).apply()
        #expect(r.completed.map(\.version) == [1])
        let f = try #require(r.failure)
        #expect(f.kind == .statementFailed)
        #expect(f.location == SourceLocation(file: "002_four.sql", line: bad.line, column: bad.column))
        #expect(f.sqlState == bad.sqlState)
        #expect(f.statementIndex == broken)
        #expect(f.description.contains("002_four.sql:\(bad.line):\(bad.column)"))
        // Rolled back as a whole, the migration after it never started.
        #expect(try scalar(url, "SELECT to_regclass('p')::text") == nil)
        #expect(try scalar(url, "SELECT to_regclass('after')::text") == nil)
        #expect(try scalar(url, "SELECT status FROM opsctl.schema_migrations WHERE version = 2") == "failed")
        #expect(try scalar(url, "SELECT sqlstate FROM opsctl.schema_migrations WHERE version = 2") == bad.sqlState)
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations_events WHERE version = 2 AND action = 'apply-failed'") == "1")
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations_events WHERE action = 'apply'") == "1")
    }

    @Test func aFailingHistoryInsertRollsTheMigrationBack() throws {
        // The migration forbids its own history row: the insert after its statements fails (23514).
        let dir = try TempMigrations([
            "001_ok.sql": "CREATE TABLE ok (id bigint);\n", "001_ok.down.sql": "DROP TABLE ok;\n",
            "002_refuse.sql": "CREATE TABLE h (id bigint);\nALTER TABLE opsctl.schema_migrations ADD CONSTRAINT refuse_2 CHECK (version <> 2);\n",
            "002_refuse.down.sql": "DROP TABLE h;\n",
        ])
        let url = try TestDatabase.fresh("pipelined_history")
        let r = try Migrator(config: dir.config(), dsn: url).apply()
        #expect(r.completed.map(\.version) == [1])
        let f = try #require(r.failure)
        #expect(f.kind == .statementFailed)
        #expect(f.sqlState == "23514")
        #expect(f.message.hasPrefix("recording 002_refuse"), "\(f)")
        #expect(try scalar(url, "SELECT to_regclass('h')::text") == nil)
        #expect(try scalar(url, "SELECT count(*) FROM pg_constraint WHERE conname = 'refuse_2'") == "0")
        #expect(try scalar(url, "SELECT status FROM opsctl.schema_migrations WHERE version = 2") == "failed")
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations_events WHERE version = 2 AND action = 'apply'") == "0")
    }

    @Test func anObjectMissingAfterTheStatementsStopsTheCommit() throws {
        // The parse tree says the migration creates index q_name; the rename (not followed) leaves it absent.
        let dir = try TempMigrations([
            "001_q.sql": "CREATE TABLE q (name text);\nCREATE INDEX q_name ON q (name);\nALTER INDEX q_name RENAME TO q_by_name;\n",
            "001_q.down.sql": "DROP TABLE q;\n",
        ])
        let url = try TestDatabase.fresh("pipelined_verify")
        let r = try Migrator(config: dir.config(), dsn: url).apply()
        #expect(r.completed.isEmpty)
        let f = try #require(r.failure)
        #expect(f.kind == .verification)
        #expect(f.message.contains("q_name"), "\(f)")
        #expect(f.location?.file == "001_q.sql")
        #expect(try scalar(url, "SELECT to_regclass('q')::text") == nil)
        #expect(try scalar(url, "SELECT status FROM opsctl.schema_migrations WHERE version = 1") == "failed")
    }

    @Test func aConstraintCheckedAtCommitFailsTheMigration() throws {
        // A deferred foreign key is only checked by the COMMIT at the end of the pipeline.
        let dir = try TempMigrations([
            "001_deferred.sql": """
                CREATE TABLE parent (id bigint PRIMARY KEY);
                CREATE TABLE child (parent_id bigint REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
                INSERT INTO child VALUES (1);

                """,
            "001_deferred.down.sql": "DROP TABLE child; DROP TABLE parent;\n",
        ])
        let url = try TestDatabase.fresh("pipelined_commit")
        let r = try Migrator(config: dir.config(), dsn: url).apply()
        #expect(r.completed.isEmpty)
        let f = try #require(r.failure)
        #expect(f.sqlState == "23503")
        #expect(f.message.hasPrefix("committing 001_deferred"), "\(f)")
        #expect(try scalar(url, "SELECT to_regclass('parent')::text") == nil)
        #expect(try scalar(url, "SELECT status FROM opsctl.schema_migrations WHERE version = 1") == "failed")
    }

    @Test func migrationsThatDropPreparedStatementsDoNotBreakTheOnesAfterThem() throws {
        // The history row and checks are prepared once per connection; DEALLOCATE ALL drops them.
        let dir = try TempMigrations([
            "001_a.sql": "CREATE TABLE a (id bigint);\n", "001_a.down.sql": "DROP TABLE a;\n",
            "002_dealloc.sql": "DEALLOCATE ALL;\nCREATE TABLE b (id bigint);\n", "002_dealloc.down.sql": "DROP TABLE b;\n",
            "003_c.sql": "CREATE TABLE c (id bigint);\n", "003_c.down.sql": "DROP TABLE c;\n",
        ])
        let url = try TestDatabase.fresh("pipelined_dealloc")
        let m = try Migrator(config: dir.config(), dsn: url)
        let r = try m.apply()
        #expect(r.failure == nil, "\(String(describing: r.failure))")
        #expect(r.completed.map(\.version) == [1, 2, 3])
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations_events WHERE action = 'apply'") == "3")
        // Each row's duration and each event's " in N ms" come from the server.
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations WHERE status = 'applied' AND duration_ms >= 0 AND execution_order IS NOT NULL") == "3")
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations_events WHERE detail ~ '^00[1-3]_[a-z]+\\.sql in [0-9]+ ms$'") == "3")
        // And back: the rollback's row removal and event are one statement too.
        let back = try m.rollback(steps: 3)
        #expect(back.completed.map(\.version) == [3, 2, 1])
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations") == "0")
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations_events WHERE action = 'rollback' AND detail ~ ' in [0-9]+ ms$'") == "3")
    }
}
