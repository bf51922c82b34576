import Checks
import Foundation
import Postgres
import Testing
import TestSupport
@testable import Runbooks

/// A dry-run fails where the real run would, with the same reason: one case (or more) per mutating kind.
/// Each case runs the step for real, then as a dry-run, against the sandbox database.
@Suite("Dry-run fidelity", .enabled(if: TestDatabase.available), .serialized)
struct DryRunFidelityTests {
    final class Fixture: @unchecked Sendable {
        let database: String
        /// A database without the service's tables (the replay's `events` is missing there).
        let empty: String
        let files = TemporaryDirectory()

        init() throws {
            database = try TestDatabase.fresh("dry_run_fidelity")
            empty = try TestDatabase.fresh("dry_run_fidelity_empty")
            let db = try PostgresConnection(dsn: database)
            defer { db.close() }
            try db.execute("""
                CREATE TABLE webhook_logs (id bigserial PRIMARY KEY, status text, created_at timestamptz NOT NULL DEFAULT now());
                INSERT INTO webhook_logs (status) VALUES ('ok'), ('failed');
                CREATE TABLE events (id bigserial PRIMARY KEY, whop_event_id text NOT NULL UNIQUE, type text, payload jsonb NOT NULL,
                    processed boolean NOT NULL DEFAULT false, error text, company_id text, occurred_at timestamptz NOT NULL,
                    received_at timestamptz, created_at timestamptz NOT NULL DEFAULT now());
                """)
        }

        /// The database URL naming a database that does not exist (the sandbox trusts local users, so a
        /// wrong password would not be refused).
        var unreachable: String {
            var parts = URLComponents(string: database)!
            parts.path = "/opsctl_no_such_database"
            return parts.string!
        }
    }

    static let fixture = Result { try Fixture() }

    /// Runs one step for real and as a dry-run; both reports' only result.
    func both(_ step: String, env: [String: String] = [:], database: String? = nil) throws -> (real: StepResult, dry: StepResult) {
        let fixture = try Self.fixture.get()
        let yaml = "name: fidelity\nlock: false\nsteps:\n" + step.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n"
        var processEnvironment = ProcessInfo.processInfo.environment
        processEnvironment["DATABASE_URL"] = database ?? fixture.database
        processEnvironment["WHOP_WEBHOOK_SECRET"] = "dry-run-fidelity-secret-0123456789"
        for (k, v) in env { processEnvironment[k] = v }
        func run(dryRun: Bool) throws -> StepResult {
            let report = try execute(yaml, environment: EnvironmentConfig(name: "local", baseURL: "http://127.0.0.1:9")) { options in
                options.dryRun = dryRun
                options.confirm = "yes"
                options.processEnvironment = processEnvironment
            }
            return try #require(report.results.first)
        }
        return (try run(dryRun: false), try run(dryRun: true))
    }

    /// The real run fails (or errors) saying `reason`; the dry-run reports `error` with the same reason.
    func expectSameFailure(_ pair: (real: StepResult, dry: StepResult), _ reason: String, sqlstate: String? = nil,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(pair.real.status == .error || pair.real.status == .fail, "real run: \(pair.real.status) \(pair.real.message)",
                sourceLocation: sourceLocation)
        #expect(pair.real.message.contains(reason), "real run: \(pair.real.message)", sourceLocation: sourceLocation)
        #expect(pair.dry.status == .error, "dry-run: \(pair.dry.status) \(pair.dry.message)", sourceLocation: sourceLocation)
        #expect(pair.dry.message.contains(reason), "dry-run: \(pair.dry.message)", sourceLocation: sourceLocation)
        #expect(pair.dry.details["dry_run"] == .bool(true), sourceLocation: sourceLocation)
        if let sqlstate {
            #expect(pair.real.details["sqlstate"] == .string(sqlstate), "real run details: \(pair.real.details)", sourceLocation: sourceLocation)
            #expect(pair.dry.details["sqlstate"] == .string(sqlstate), "dry-run details: \(pair.dry.details)", sourceLocation: sourceLocation)
        }
    }

    func rows(_ sql: String) throws -> Int {
        let db = try PostgresConnection(dsn: try Self.fixture.get().database)
        defer { db.close() }
        return try db.query(sql).first?[0].int ?? -1
    }

    // MARK: - sql.exec

    /// Statements Postgres refuses in a transaction block: the dry-run says so (25001) instead of "would execute in a transaction".
    @Test(arguments: [
        ("VACUUM webhook_logs", "VACUUM"),
        ("CREATE INDEX CONCURRENTLY webhook_logs_status ON webhook_logs (status)", "CREATE INDEX CONCURRENTLY"),
        ("REINDEX TABLE CONCURRENTLY webhook_logs", "REINDEX CONCURRENTLY"),
        ("ALTER SYSTEM SET work_mem = '8MB'", "ALTER SYSTEM"),
        ("CREATE DATABASE dry_run_never_created", "CREATE DATABASE"),
    ])
    func sqlExecRefusedInATransaction(sql: String, command: String) throws {
        let pair = try both("- id: s\n  kind: sql.exec\n  with:\n    sql: \"\(sql)\"")
        expectSameFailure(pair, "\(command) cannot run inside a transaction block", sqlstate: "25001")
        #expect(!pair.dry.message.contains("would execute in a transaction"))
    }

    @Test func sqlExecMissingTable() throws {
        let pair = try both("- id: s\n  kind: sql.exec\n  with:\n    sql: DELETE FROM no_such_table WHERE id = $1\n    params: [1]")
        expectSameFailure(pair, #"relation "no_such_table" does not exist"#, sqlstate: "42P01")
    }

    @Test func sqlExecMissingColumn() throws {
        let pair = try both("- id: s\n  kind: sql.exec\n  with:\n    sql: UPDATE webhook_logs SET no_such_column = 1 WHERE false")
        expectSameFailure(pair, #"column "no_such_column" of relation "webhook_logs" does not exist"#, sqlstate: "42703")
    }

    @Test func sqlExecBadParameter() throws {
        let pair = try both("- id: s\n  kind: sql.exec\n  with:\n    sql: DELETE FROM webhook_logs WHERE id = $1::bigint\n    params: [not-a-number]")
        expectSameFailure(pair, "invalid input syntax for type bigint", sqlstate: "22P02")
    }

    @Test func sqlExecSyntaxError() throws {
        let pair = try both("- id: s\n  kind: sql.exec\n  with:\n    sql: DELETE FROMM webhook_logs")
        expectSameFailure(pair, "syntax error at or near", sqlstate: "42601")
    }

    @Test func sqlExecTwoStatements() throws {
        let pair = try both("- id: s\n  kind: sql.exec\n  with:\n    sql: \"DELETE FROM webhook_logs WHERE false; DELETE FROM webhook_logs WHERE false\"")
        expectSameFailure(pair, "cannot insert multiple commands into a prepared statement", sqlstate: "42601")
    }

    @Test func sqlExecDatabaseMissing() throws {
        let fixture = try Self.fixture.get()
        let pair = try both("- id: s\n  kind: sql.exec\n  with:\n    sql: DELETE FROM webhook_logs WHERE false", database: fixture.unreachable)
        expectSameFailure(pair, #"database "opsctl_no_such_database" does not exist"#)
    }

    @Test func sqlExecDatabaseVariableUnset() throws {
        let pair = try both("- id: s\n  kind: sql.exec\n  with:\n    sql: DELETE FROM webhook_logs WHERE false\n    database_url_env: OPSCTL_NO_SUCH_DATABASE_URL")
        expectSameFailure(pair, "OPSCTL_NO_SUCH_DATABASE_URL")
    }

    /// A statement that would work: the dry-run is a skip with the plan, and changes nothing.
    @Test func sqlExecDryRunOfAValidStatementChangesNothing() throws {
        let before = try rows("SELECT count(*) FROM webhook_logs")
        let fixture = try Self.fixture.get()
        var processEnvironment = ProcessInfo.processInfo.environment
        processEnvironment["DATABASE_URL"] = fixture.database
        let report = try execute("name: f\nsteps:\n  - id: s\n    kind: sql.exec\n    with:\n      sql: DELETE FROM webhook_logs WHERE status = $1\n      params: [failed]\n") { options in
            options.dryRun = true
            options.processEnvironment = processEnvironment
        }
        let result = try #require(report.results.first)
        #expect(result.status == .skipped, "\(result.message)")
        #expect(result.message.hasPrefix("dry-run: would execute"))
        #expect(result.details["plan"]?.string?.contains("Delete on webhook_logs") == true, "\(result.details)")
        #expect(try rows("SELECT count(*) FROM webhook_logs") == before)
    }

    // MARK: - webhooks.replay

    @Test func replayWithoutEventsTable() throws {
        let fixture = try Self.fixture.get()
        let pair = try both("- id: r\n  kind: webhooks.replay\n  with: { failed: true }", database: fixture.empty)
        expectSameFailure(pair, #"relation "events" does not exist"#, sqlstate: "42P01")
        #expect(!pair.dry.message.contains("could not count"))
    }

    @Test func replayWithMissingDatabase() throws {
        let fixture = try Self.fixture.get()
        let pair = try both("- id: r\n  kind: webhooks.replay\n  with: { failed: true }", database: fixture.unreachable)
        expectSameFailure(pair, #"database "opsctl_no_such_database" does not exist"#)
    }

    @Test func replaySinceGarbage() throws {
        let pair = try both("- id: r\n  kind: webhooks.replay\n  with: { since: garbage }")
        expectSameFailure(pair, "invalid input syntax for type timestamp with time zone", sqlstate: "22007")
    }

    @Test func replayUnreadableIDsFile() throws {
        let pair = try both("- id: r\n  kind: webhooks.replay\n  with: { ids_file: /nonexistent/ids.txt }")
        expectSameFailure(pair, "cannot read ids_file /nonexistent/ids.txt")
    }

    @Test func replayBadFromFile() throws {
        let file = try Self.fixture.get().files.write("export.jsonl", "{\"id\": \"evt_1\", \"type\": \"payment_failed\"}\nnot json\n")
        let pair = try both("- id: r\n  kind: webhooks.replay\n  with: { from_file: \(file) }")
        expectSameFailure(pair, "\(file):2: not a JSON object with a string id")
    }

    @Test func replayUnknownReplayID() throws {
        let pair = try both("- id: r\n  kind: webhooks.replay\n  with: { resume: rp-no-such-replay }")
        expectSameFailure(pair, "no replay rp-no-such-replay in opsctl.replays")
    }

    @Test func replayWithoutSigningSecret() throws {
        let pair = try both("- id: r\n  kind: webhooks.replay\n  with: { failed: true, secret_env: OPSCTL_NO_SUCH_SECRET }")
        expectSameFailure(pair, "OPSCTL_NO_SUCH_SECRET is not set")
    }

    // MARK: - migrations.*

    @Test func migrationsApplyMissingDirectory() throws {
        let pair = try both("- id: m\n  kind: migrations.apply\n  with: { dir: /nonexistent/migrations }")
        expectSameFailure(pair, "/nonexistent/migrations")
        #expect(!pair.dry.message.contains("plan unavailable"))
    }

    @Test func migrationsApplyDatabaseMissing() throws {
        let fixture = try Self.fixture.get()
        let dir = fixture.files.path + "/apply"
        _ = try fixture.files.write("apply/001_t.sql", "CREATE TABLE dry_run_t (id int);\n")
        let pair = try both("- id: m\n  kind: migrations.apply\n  with: { dir: \(dir) }", database: fixture.unreachable)
        expectSameFailure(pair, #"database "opsctl_no_such_database" does not exist"#)
    }

    @Test func migrationsRollbackMissingDirectory() throws {
        let pair = try both("- id: m\n  kind: migrations.rollback\n  with: { dir: /nonexistent/migrations, steps: 1 }")
        expectSameFailure(pair, "/nonexistent/migrations")
        #expect(!pair.dry.message.contains("plan unavailable"))
    }

    /// A migration applied without a down script: the rollback refuses (fail), and so does its dry-run.
    @Test func migrationsRollbackWithoutDownScript() throws {
        let fixture = try Self.fixture.get()
        let database = try TestDatabase.fresh("dry_run_rollback")
        let dir = fixture.files.path + "/nodown"
        _ = try fixture.files.write("nodown/001_nodown.sql", "CREATE TABLE dry_run_nodown (id int);\n")
        let apply = try both("- id: m\n  kind: migrations.apply\n  with: { dir: \(dir) }", database: database)
        #expect(apply.real.status == .ok, "\(apply.real.message)")
        let pair = try both("- id: m\n  kind: migrations.rollback\n  with: { dir: \(dir), steps: 1 }", database: database)
        expectSameFailure(pair, "down")
        #expect(pair.real.status == .fail)
    }

    @Test func migrationsBaselineMissingDirectory() throws {
        let pair = try both("- id: m\n  kind: migrations.baseline\n  with: { dir: /nonexistent/migrations, version: 1 }")
        expectSameFailure(pair, "/nonexistent/migrations")
    }

    @Test func migrationsRepairMarkUnknownVersion() throws {
        let fixture = try Self.fixture.get()
        let dir = fixture.files.path + "/repair"
        _ = try fixture.files.write("repair/001_r.sql", "CREATE TABLE dry_run_r (id int);\n")
        let pair = try both("- id: m\n  kind: migrations.repair\n  with: { dir: \(dir), version: 7, mark: applied }")
        expectSameFailure(pair, "no migration file for version 7")
    }

    // MARK: - shell

    @Test func shellSyntaxError() throws {
        let pair = try both("- id: s\n  kind: shell\n  with: { command: \"echo (\" }")
        #expect(pair.real.status == .fail, "\(pair.real.message)")
        #expect(pair.dry.status == .error, "\(pair.dry.message)")
        // Both quote the shell's own complaint.
        let complaint = try #require(pair.dry.message.components(separatedBy: "the shell rejects the command: ").last)
        #expect(pair.real.message.contains(complaint.components(separatedBy: ": ").last ?? complaint), "real: \(pair.real.message) dry: \(pair.dry.message)")
    }

    @Test func shellCommandNotFound() throws {
        let pair = try both("- id: s\n  kind: shell\n  with: { command: opsctl-no-such-command --flag }")
        #expect(pair.real.status == .fail && pair.real.message.contains("exit code 127"), "\(pair.real.message)")
        #expect(pair.dry.status == .error)
        #expect(pair.dry.message.contains("opsctl-no-such-command: command not found"), "\(pair.dry.message)")
    }

    @Test func shellMissingWorkingDirectory() throws {
        let pair = try both("- id: s\n  kind: shell\n  with: { command: \"true\", cwd: /nonexistent/dir }")
        #expect(pair.real.status == .error || pair.real.status == .fail, "\(pair.real.message)")
        #expect(pair.real.message.contains("/nonexistent/dir"), "\(pair.real.message)")
        #expect(pair.dry.status == .error)
        #expect(pair.dry.message.contains("/nonexistent/dir"), "\(pair.dry.message)")
    }

    /// A command that would work is not run by the dry-run.
    @Test func shellDryRunDoesNotRunTheCommand() throws {
        let fixture = try Self.fixture.get()
        let marker = fixture.files.path + "/shell-ran"
        let report = try execute("name: f\nsteps:\n  - id: s\n    kind: shell\n    with: { command: \"touch \(marker)\" }\n") { options in
            options.dryRun = true
        }
        #expect(report.results.first?.status == .skipped, "\(report.results.first?.message ?? "")")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }
}
