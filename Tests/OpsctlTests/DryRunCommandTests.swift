import Foundation
import Postgres
import Testing
import TestSupport

/// Dry-runs through the real CLI: an error the real run would hit is an error (exit 1), never
/// PASSED with "(could not count: ...)" or "plan unavailable"; a held runbook lock stops it (exit 2).
@Suite("Dry-run commands", .enabled(if: TestDatabase.available), .serialized)
struct DryRunCommandTests {
    let project: Project

    init() throws {
        // A database without the service's tables: `events` does not exist.
        project = Project(databaseURL: try TestDatabase.fresh("dry_run_commands"))
        project.env["WHOP_WEBHOOK_SECRET"] = "dry-run-command-secret-0123456789"
        try project.file("opsctl.yaml", """
            default_environment: local
            environments:
              local:
                base_url: http://127.0.0.1:9
                database_url_env: DATABASE_URL
                webhook: { scheme: whop, secret_env: WHOP_WEBHOOK_SECRET, path: /api/webhooks/whop }
            """)
    }

    func expectError(_ args: [String], exitCodes: Set<Int32> = [1], saying reason: String, env: [String: String] = [:],
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        let out = try project.opsctl(args, env: env)
        let text = out.stdout + out.stderr
        #expect(exitCodes.contains(out.exitCode), "exit \(out.exitCode): \(text)", sourceLocation: sourceLocation)
        #expect(text.contains(reason), "\(text)", sourceLocation: sourceLocation)
        for hidden in ["could not count", "plan unavailable", "PASSED"] {
            #expect(!text.contains(hidden), "\(text)", sourceLocation: sourceLocation)
        }
    }

    @Test func replayFailedWithoutEventsTable() throws {
        try expectError(["replay", "--failed", "--dry-run"], saying: #"relation "events" does not exist"#)
    }

    @Test func replayWithAMissingDatabase() throws {
        var url = URLComponents(string: project.env["DATABASE_URL"]!)!
        url.path = "/opsctl_no_such_database"
        try expectError(["replay", "--failed", "--dry-run"], saying: #"database "opsctl_no_such_database" does not exist"#,
                        env: ["DATABASE_URL": url.string!])
    }

    /// `--since garbage` is refused by Postgres' timestamp parser (or, with flag validation, as a usage error: 64).
    @Test func replaySinceGarbage() throws {
        let url = try TestDatabase.fresh("dry_run_since")
        let db = try PostgresConnection(dsn: url)
        try db.execute("""
            CREATE TABLE events (whop_event_id text PRIMARY KEY, type text, payload jsonb NOT NULL, processed boolean NOT NULL DEFAULT false,
                                 error text, company_id text, occurred_at timestamptz NOT NULL, received_at timestamptz,
                                 created_at timestamptz NOT NULL DEFAULT now())
            """)
        db.close()
        try expectError(["replay", "--since", "garbage", "--dry-run"], exitCodes: [1, 64], saying: "garbage", env: ["DATABASE_URL": url])
    }

    @Test func replayUnreadableIDsFile() throws {
        try expectError(["replay", "--ids", "/nonexistent/ids.txt", "--dry-run"], exitCodes: [1, 65], saying: "/nonexistent/ids.txt")
    }

    @Test func replayBadFromFile() throws {
        let file = try project.file("export.jsonl", "this is not JSON\n")
        try expectError(["replay", "--from-file", file, "--dry-run"], exitCodes: [1, 65], saying: "\(file):1")
    }

    @Test func migrateRollbackDryRunWithAMissingDirectory() throws {
        try expectError(["migrate", "rollback", "--steps", "1", "--dry-run", "--dir", "/nonexistent"],
                        exitCodes: [1, 65], saying: "/nonexistent does not exist")
    }

    @Test func sqlExecDryRunOfVacuum() throws {
        try project.file("maintenance.yaml", "name: maintenance\nsteps:\n  - { id: vacuum, kind: sql.exec, with: { sql: VACUUM } }\n")
        try expectError(["run", "maintenance.yaml", "--dry-run"], saying: "VACUUM cannot run inside a transaction block [SQLSTATE 25001]")
        let out = try project.opsctl(["run", "maintenance.yaml"])
        #expect(out.exitCode == 1)
        #expect(out.stdout.contains("VACUUM cannot run inside a transaction block [SQLSTATE 25001]"), "\(out.stdout)")
    }

    /// The real run would find the runbook lock held and stop (exit 2): so does the dry-run.
    @Test func dryRunStopsWhenTheRunbookLockIsHeld() throws {
        try project.file("deploy.yaml", "name: deploy\nsteps:\n  - { id: slow-change, kind: shell, with: { command: 'sleep 4' } }\n")
        let first = try project.spawn(["run", "deploy.yaml"])
        defer { first.terminate() }
        #expect(eventually { (try? project.opsctl(["history", "--format", "json"]).stdout.contains("\"running\"")) ?? false })
        let dry = try project.opsctl(["run", "deploy.yaml", "--dry-run"])
        #expect(dry.exitCode == 2, "\(dry.stdout)\(dry.stderr)")
        #expect((dry.stdout + dry.stderr).contains("dry-run: the real run would stop here: another run holds the lock"), "\(dry.stdout)\(dry.stderr)")
        first.waitUntilExit()
        let free = try project.opsctl(["run", "deploy.yaml", "--dry-run"])
        #expect(free.exitCode == 0, "\(free.stdout)\(free.stderr)")
    }
}
