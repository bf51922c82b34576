import Foundation
import Support
import Testing
import TestSupport

/// `opsctl health` against the sandbox and a real local HTTP server.
@Suite("opsctl health", .enabled(if: TestDatabase.available))
struct HealthCommandTests {
    @Test func healthyServiceAndDatabase() throws {
        let server = try StaticHTTPServer(files: ["api/health": #"{"status":"healthy"}"#])
        let p = Project(databaseURL: try TestDatabase.fresh("health"))
        let out = try p.opsctl(["health", "--url", server.url("api/health"), "--expect", "status=healthy", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        for id in ["endpoint", "database", "connections", "long-transactions", "lock-waits", "idle-in-transaction", "database-size"] {
            #expect(out.stdout.contains("\"id\" : \"\(id)\""), "missing step \(id)")
        }
        #expect(out.stdout.contains("\"name\" : \"round_trip\""))
    }

    @Test func unhealthyBodyAndDownDatabaseAreReported() throws {
        let server = try StaticHTTPServer(files: ["api/health": #"{"status":"degraded"}"#])
        let p = Project()
        let out = try p.opsctl(["health", "--url", server.url("api/health"), "--expect", "status=healthy", "--no-journal"])
        #expect(out.exitCode == 1)
        #expect(out.stdout.contains("status is degraded, expected healthy"), "\(out.stdout)")
        #expect(out.stdout.contains("127.0.0.1:1"), "the database error names the host")
        #expect(out.stdout.contains("Connection refused") || out.stdout.contains("connection refused"))
    }

    @Test func unreachableEndpointNamesTheHost() throws {
        let p = Project()
        let out = try p.opsctl(["health", "--url", "http://127.0.0.1:1/api/health", "--no-database", "--no-journal"])
        #expect(out.exitCode == 1)
        #expect(out.stdout.contains("127.0.0.1:1"))
        #expect(out.stdout.contains("is the service running"))
    }
}

/// `--no-database` skips the database checks themselves (not only the connect step): with the
/// database down the run still exits 0. Needs no sandbox.
@Suite("opsctl health --no-database")
struct HealthWithoutDatabaseTests {
    @Test func theDatabaseChecksDoNotRunAndTheDownDatabaseDoesNotFail() throws {
        let server = try StaticHTTPServer(files: ["api/health": #"{"status":"healthy"}"#])
        let p = Project() // DATABASE_URL points at a closed port
        let out = try p.opsctl(["health", "--no-database", "--url", server.url("api/health"), "--no-journal", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let results = try #require(report["results"] as? [[String: Any]])
        let byID = Dictionary(uniqueKeysWithValues: results.map { ($0["id"] as? String ?? "", $0) })
        #expect(byID["endpoint"]?["status"] as? String == "ok")
        #expect(byID["database"]?["status"] as? String == "skipped")
        for id in ["connections", "long-transactions", "lock-waits", "idle-in-transaction", "database-size"] {
            #expect(byID[id]?["status"] as? String == "skipped", "\(id) ran: \(byID[id] ?? [:])")
            #expect(byID[id]?["blocked_by"] as? [String] == ["database"], "\(id)")
        }
        #expect(!out.stdout.contains("onnection refused"), "a database check ran")
    }
}
