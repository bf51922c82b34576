import Checks
import Foundation
import Postgres
import Testing
import TestSupport
@testable import Runbooks

/// SwiftLint-style: each kind's documented example is a test. It must load as written and run
/// against real things (the sandbox database, a local HTTP server) without an `error` result.
@Suite("Every kind's example runs", .enabled(if: TestDatabase.available), .serialized)
struct KindExamplesTests {
    final class Fixture: @unchecked Sendable {
        let database: String
        let server = Process()
        let port = Int.random(in: 40_001...50_000)
        let root = TemporaryDirectory()

        init() throws {
            database = try TestDatabase.fresh("kind_examples")
            // The service tables the examples touch.
            let db = try PostgresConnection(dsn: database)
            try db.execute("CREATE TABLE webhook_logs (id bigserial PRIMARY KEY, status text, created_at timestamptz NOT NULL DEFAULT now())")
            db.close()
            _ = try root.write("api/health", #"{"status":"healthy"}"#)
            _ = try root.write("index.html", "ok")
            server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            server.arguments = ["python3", "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", root.path]
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            try server.run()
            let client = HTTPProbe(url: "http://127.0.0.1:\(port)/api/health")
            for _ in 0..<100 where !client.ok() { Thread.sleep(forTimeInterval: 0.1) }
        }

        deinit { server.terminate() }
    }

    static let fixture = Result { try Fixture() }

    static var kindNames: [String] { StepRegistry.all.map { $0.name } }

    @Test(arguments: kindNames)
    func exampleRuns(name: String) throws {
        let fixture = try Self.fixture.get()
        let kind = try #require(StepRegistry.kind(named: name))
        #expect(!kind.summary.isEmpty)
        #expect(!kind.parameters.isEmpty || kind.name == "confirm")
        let indented = kind.example.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
        let yaml = "name: example\nsteps:\n" + indented + "\n"
        let runbook: Runbook
        do { runbook = try loadRunbook(yaml) } catch {
            Issue.record("example of \(name) does not load: \(error)")
            return
        }
        #expect(runbook.steps.allSatisfy { $0.kind == name }, "the example uses its own kind")
        var options = RunOptions(environment: EnvironmentConfig(name: "test", baseURL: "http://127.0.0.1:\(fixture.port)"))
        options.confirm = "yes"
        options.processEnvironment = ProcessInfo.processInfo.environment.merging(["DATABASE_URL": fixture.database, "WHOP_WEBHOOK_SECRET": "kind-example-secret-0123456789"]) { $1 }
        let report = Executor(runbook: runbook, options: options, reporter: nil, journal: nil).run()
        for result in report.results {
            #expect(result.status != .error, "\(name) example: \(result.message)")
            #expect(!result.message.isEmpty)
        }
    }
}

/// Minimal readiness probe built on the HTTP driver.
struct HTTPProbe {
    let url: String
    func ok() -> Bool {
        (try? HTTPClientProbe.status(url)) == 200
    }
}

import HTTP

enum HTTPClientProbe {
    static func status(_ url: String) throws -> Int {
        try HTTPClient().send(HTTPRequest(url: url, timeout: 1)).status
    }
}
