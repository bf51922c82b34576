import Foundation
import Support
import Testing
import TestSupport

/// `opsctl health` against the sandbox and a real local HTTP server.
@Suite("opsctl health", .enabled(if: TestDatabase.available))
struct HealthCommandTests {
    /// A real HTTP server (python3 http.server) serving a static health document.
    final class StaticServer: @unchecked Sendable {
        let process = Process()
        let port: Int
        let root = TemporaryDirectory()

        init(body: String) throws {
            port = Int.random(in: 20_000...40_000)
            _ = try root.write("api/health", body)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", root.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            _ = eventually(timeout: 10) { (try? ProcessRunner.run(["curl", "-sf", url], timeout: 2).exitCode) == 0 }
        }

        var url: String { "http://127.0.0.1:\(port)/api/health" }
        deinit { process.terminate() }
    }

    @Test func healthyServiceAndDatabase() throws {
        let server = try StaticServer(body: #"{"status":"healthy"}"#)
        let p = Project(databaseURL: try TestDatabase.fresh("health"))
        let out = try p.opsctl(["health", "--url", server.url, "--expect", "status=healthy", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        for id in ["endpoint", "database", "connections", "long-transactions", "lock-waits", "idle-in-transaction", "database-size"] {
            #expect(out.stdout.contains("\"id\" : \"\(id)\""), "missing step \(id)")
        }
        #expect(out.stdout.contains("\"name\" : \"round_trip\""))
    }

    @Test func unhealthyBodyAndDownDatabaseAreReported() throws {
        let server = try StaticServer(body: #"{"status":"degraded"}"#)
        let p = Project()
        let out = try p.opsctl(["health", "--url", server.url, "--expect", "status=healthy", "--no-journal"])
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
