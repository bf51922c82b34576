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
        let server: StaticHTTPServer
        var port: Int { server.port }

        init() throws {
            database = try TestDatabase.fresh("kind_examples")
            // The service tables the examples touch.
            let db = try PostgresConnection(dsn: database)
            try db.execute("CREATE TABLE webhook_logs (id bigserial PRIMARY KEY, status text, created_at timestamptz NOT NULL DEFAULT now())")
            try db.execute("CREATE TABLE request_log (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now())")
            db.close()
            server = try StaticHTTPServer(files: ["api/health": #"{"status":"healthy"}"#, "healthz": #"{"status":"healthy"}"#, "index.html": "ok"])
        }
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
