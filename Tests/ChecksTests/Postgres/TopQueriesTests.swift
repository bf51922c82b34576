import Foundation
import Postgres
import Testing
import TestSupport
@testable import Checks

/// pg_stat_statements needs shared_preload_libraries, so this suite starts its own cluster with it
/// (socket in its own directory, no TCP port), restarting it once after ALTER SYSTEM.
@Suite("Catalog: top statements from pg_stat_statements", .enabled(if: TestDatabase.available), .serialized)
struct TopQueriesTests {
    static let cluster: Result<String, Error> = Result {
        let base = ProcessInfo.processInfo.environment["OPSCTL_TEST_SANDBOX_DIR"] ?? "/tmp/opsctl-test-\(getuid())"
        let port = Int(ProcessInfo.processInfo.environment["OPSCTL_TEST_SANDBOX_PORT"] ?? "") ?? 55433
        let sandbox = Sandbox(directory: base + "-pgss", port: port)
        try sandbox.up()
        let admin = try PostgresConnection(dsn: sandbox.url())
        let preload = try admin.query("SELECT current_setting('shared_preload_libraries') AS s").first?["s"].string ?? ""
        if !preload.contains("pg_stat_statements") {
            try admin.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
            admin.close()
            try stop(directory: base + "-pgss/data")
            try sandbox.up()
        } else {
            admin.close()
        }
        let name = "pgss_\(getpid())"
        let db = try PostgresConnection(dsn: try sandbox.createDatabase(name))
        defer { db.close() }
        try db.execute("CREATE EXTENSION pg_stat_statements")
        return sandbox.url(database: name)
    }

    /// Fast shutdown of the postmaster named in postmaster.pid (SIGINT), waiting for it to exit.
    static func stop(directory: String) throws {
        let text = try String(contentsOfFile: directory + "/postmaster.pid", encoding: .utf8)
        guard let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }) else { throw StepError("no pid in postmaster.pid") }
        kill(pid, SIGINT)
        let deadline = Date().addingTimeInterval(30)
        while kill(pid, 0) == 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    }

    func run(_ with: [String: JSONValue]) throws -> StepOutcome {
        let url = try Self.cluster.get()
        return try PostgresTopQueries(StepParameters(with, stepID: "top-queries"))
            .run(StepContext(environment: ["DATABASE_URL": url], applicationName: "opsctl/catalog-test/top-queries"))
    }

    @Test func slowStatementsWarnAndFailAndTheFilterPicksThem() throws {
        let db = try PostgresConnection(dsn: try Self.cluster.get())
        defer { db.close() }
        for _ in 0..<5 { try db.query("SELECT count(*) FROM generate_series(1, 1000) AS whop_members") }
        let ok = try run(["filter": "%whop_members%"])
        #expect(ok.status == .ok, "\(ok.message)")
        let listed = try #require(ok.detail("statements")?.array?.first?.object)
        #expect(listed["calls"]?.int == 5)
        #expect(ok.message.contains("matching '%whop_members%'"), "\(ok.message)")

        try db.query("SELECT pg_sleep(0.3) AS slow_report")
        let warned = try run(["filter": "%slow_report%", "warn": "200ms", "crit": "1s"])
        #expect(warned.status == .warn, "\(warned.message)")
        #expect((warned.metric("top_query_mean") ?? 0) >= 300)
        #expect(try run(["filter": "%slow_report%", "warn": "100ms", "crit": "250ms"]).status == .fail)
        #expect(try run(["filter": "%whop_members%", "warn": "200ms", "crit": "1s"]).status == .ok, "the filter leaves the slow one out")

        let byMean = try run(["order_by": "mean", "limit": 1])
        #expect(byMean.detail("statements")?.array?.count == 1)
        let slowest = byMean.detail("statements")?.array?.first?.object?["query"]?.string ?? ""
        #expect(slowest.contains("pg_sleep"), "\(byMean.message)")
    }

    @Test func noMatchingStatementIsOk() throws {
        let outcome = try run(["filter": "%no statement looks like this%"])
        #expect(outcome.status == .ok)
        #expect(outcome.message == "no statements matching '%no statement looks like this%' recorded in pg_stat_statements")
    }
}
