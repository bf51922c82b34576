import Checks
import Foundation
import Postgres
import Testing
import TestSupport
@testable import Runbooks

/// postgres.maintenance and postgres.retention: the dry-run fails where the real run would, for the
/// same reason, and a dry-run of a valid step changes nothing.
@Suite("Dry-run fidelity: maintenance kinds", .enabled(if: TestDatabase.available), .serialized)
struct MaintenanceDryRunFidelityTests {
    static let database = Result { () throws -> String in
        let url = try TestDatabase.fresh("maint_fidelity")
        let db = try PostgresConnection(dsn: url)
        defer { db.close() }
        try db.execute("""
            CREATE TABLE logs (id bigserial PRIMARY KEY, status text, created_at timestamptz NOT NULL);
            INSERT INTO logs (status, created_at) SELECT 'ok', now() - g * interval '1 day' + interval '12 hours' FROM generate_series(1, 100) g;
            CREATE TABLE parted (id bigint, at date) PARTITION BY RANGE (at);
            """)
        return url
    }

    func run(_ step: String, dryRun: Bool) throws -> StepResult {
        let yaml = "name: fidelity\nlock: false\nsteps:\n" + step.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n"
        let url = try Self.database.get()
        let report = try execute(yaml, environment: EnvironmentConfig(name: "local")) { options in
            options.dryRun = dryRun
            options.confirm = "yes"
            options.processEnvironment = ProcessInfo.processInfo.environment.merging(["DATABASE_URL": url]) { $1 }
        }
        return try #require(report.results.first)
    }

    @Test(arguments: [
        ("- id: m\n  kind: postgres.maintenance\n  with: { action: vacuum, table: no_such_table }", "no_such_table does not exist"),
        ("- id: m\n  kind: postgres.maintenance\n  with: { action: create_index, table: parted, index: parted_at, columns: [at] }", "partitioned table parted concurrently"),
        ("- id: m\n  kind: postgres.maintenance\n  with: { action: drop_index, index: logs_pkey }", "backs a constraint"),
        ("- id: r\n  kind: postgres.retention\n  with: { policies: [{ table: no_such_table, time_column: created_at, older_than: 30d }] }", "no_such_table does not exist"),
        ("- id: r\n  kind: postgres.retention\n  with: { policies: [{ table: logs, time_column: status, older_than: 30d }] }", "not a timestamp"),
    ])
    func dryRunFailsLikeTheRealRun(step: String, reason: String) throws {
        let dry = try run(step, dryRun: true)
        #expect(dry.status == .error && dry.message.contains(reason), "dry-run: \(dry.status) \(dry.message)")
        let real = try run(step, dryRun: false)
        #expect((real.status == .error || real.status == .fail) && real.message.contains(reason), "real run: \(real.status) \(real.message)")
    }

    @Test func aValidDryRunShowsThePlanAndChangesNothing() throws {
        let dry = try run("- id: r\n  kind: postgres.retention\n  with: { policies: [{ table: logs, time_column: created_at, older_than: 30d }] }", dryRun: true)
        #expect(dry.status == .skipped, "\(dry.status) \(dry.message)")
        #expect(dry.message.contains("would delete logs: 70 rows"), "\(dry.message)")
        #expect(dry.details["plan"]?.string?.contains("would delete 70 rows of logs") == true, "\(dry.details)")
        let vacuum = try run("- id: m\n  kind: postgres.maintenance\n  with: { action: vacuum, table: logs, analyze: true }", dryRun: true)
        #expect(vacuum.status == .skipped && vacuum.details["plan"]?.string?.contains(#"VACUUM (ANALYZE) "logs""#) == true, "\(vacuum.details)")
        #expect(try Probe.scalar(try Self.database.get(), "SELECT count(*) FROM logs") == "100")
    }
}
