import Foundation
import Postgres
import Support
import Testing
import TestSupport

/// `opsctl health --database-only` and `--checks`: the shipped catalog through the real binary.
@Suite("opsctl health: the database catalog", .enabled(if: TestDatabase.available))
struct HealthCatalogCommandTests {
    static let catalog = [
        "database", "connections", "long-transactions", "lock-waits", "idle-in-transaction", "database-size",
        "connection-states", "deadlocks", "xid-wraparound", "multixact-wraparound", "table-bloat", "index-bloat",
        "dead-tuples", "vacuum-age", "analyze-age", "replication-lag", "replication-slots", "sequences",
        "invalid-indexes", "unused-indexes", "duplicate-indexes", "cache-hit-tables", "cache-hit-indexes",
        "top-queries", "checkpoints", "temp-files", "database-growth", "table-growth",
    ]

    func results(_ stdout: String) throws -> [String: [String: Any]] {
        let report = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
        let results = try #require(report["results"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: results.map { ($0["id"] as? String ?? "", $0) })
    }

    @Test func databaseOnlyRunsEveryDatabaseCheckAndNoEndpoint() throws {
        let server = try StaticHTTPServer(files: ["api/health": #"{"status":"healthy"}"#])
        let p = Project(databaseURL: try TestDatabase.fresh("health_catalog"))
        let out = try p.opsctl(["health", "--database-only", "--url", server.url("api/health"), "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let byID = try results(out.stdout)
        #expect(Set(byID.keys) == Set(Self.catalog), "\(byID.keys.sorted())")
        #expect(byID.count >= 25)
        for (id, result) in byID where id != "top-queries" {
            #expect(["ok", "warn"].contains(result["status"] as? String), "\(id): \(result["message"] ?? "")")
        }
        // The sandbox does not preload pg_stat_statements: the step is skipped, not ok.
        #expect(byID["top-queries"]?["status"] as? String == "skipped")
        #expect((byID["top-queries"]?["message"] as? String)?.contains("pg_stat_statements is not installed") == true)
    }

    /// The catalog kinds share one connection per process: 22 checks, one session in pg_stat_database.
    @Test func theCatalogChecksShareOneConnection() throws {
        let url = try TestDatabase.fresh("health_one_connection")
        let shared = Array(Self.catalog.dropFirst(6)) // the kinds added with the catalog
        #expect(shared.count == 22)
        func sessions() throws -> Int {
            let db = try PostgresConnection(dsn: url)
            defer { db.close() }
            return try db.query("SELECT sessions FROM pg_stat_database WHERE datname = current_database()").first?[0].int ?? -1
        }
        let before = try sessions()
        let out = try Project(databaseURL: url).opsctl(["health", "--checks", shared.joined(separator: ","), "--no-journal", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        #expect(try results(out.stdout).count == 22)
        // `sessions` counts a session when it starts: opsctl's one, then the one reading it.
        #expect(try sessions() - before == 2)
    }

    @Test func checksPicksStepsByID() throws {
        let p = Project(databaseURL: try TestDatabase.fresh("health_checks"))
        let out = try p.opsctl(["health", "--checks", "deadlocks, sequences", "--format", "json", "--no-journal"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        #expect(Set(try results(out.stdout).keys) == ["deadlocks", "sequences"])
    }

    @Test func anUnknownCheckIsAUsageErrorListingTheValidIDs() throws {
        let p = Project(databaseURL: try TestDatabase.fresh("health_unknown"))
        let out = try p.opsctl(["health", "--checks", "deadlocks,bloat", "--no-journal"])
        #expect(out.exitCode == 64)
        #expect(out.stderr.contains("unknown check(s) 'bloat'"), "\(out.stderr)")
        #expect(out.stderr.contains("valid ids: database, connections"), "\(out.stderr)")
        #expect(out.stderr.contains("table-bloat"))
        let both = try p.opsctl(["health", "--database-only", "--no-database"])
        #expect(both.exitCode == 64)
    }

    @Test func helpListsTheCatalogAndTheSelectionFlags() throws {
        let out = try Project().opsctl(["health", "--help"])
        #expect(out.exitCode == 0)
        for text in ["--database-only", "--checks", "--query-filter", "xid-wraparound", "replication-slots", "table-growth"] {
            #expect(out.stdout.contains(text), "help lacks \(text)")
        }
    }
}
