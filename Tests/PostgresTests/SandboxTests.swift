import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Sandbox", .enabled(if: TestDatabase.available))
struct SandboxTests {
    @Test func upIsIdempotent() throws {
        let first = try TestDatabase.sandbox.up()
        let second = try TestDatabase.sandbox.up()
        #expect(first == second)
        #expect(TestDatabase.sandbox.state == .running)
        let c = try connect(first)
        #expect(try c.value("SELECT 1") == .int(1))
    }

    @Test func createDatabaseGivesAFreshEmptyDatabase() throws {
        let name = "t_sandbox_create_\(getpid())"
        let url = try TestDatabase.sandbox.createDatabase(name)
        do {
            let c = try connect(url)
            #expect(try c.value("SELECT current_database()") == .text(name))
            try c.execute("CREATE TABLE leftover (x int)")
        }
        // Creating it again drops the old one (even with a session still open elsewhere).
        let holder = try connect(url)
        let again = try TestDatabase.sandbox.createDatabase(name)
        #expect(again == url)
        let c = try connect(again)
        #expect(try c.value("SELECT count(*) FROM pg_tables WHERE tablename = 'leftover'") == .int(0))
        _ = holder
        c.close()
        let admin = try connect(TestDatabase.sandbox.url())
        try admin.execute("DROP DATABASE IF EXISTS \(quoteIdentifier(name)) WITH (FORCE)")
    }

    @Test("a private TCP sandbox: up, up again, password auth, down")
    func lifecycleOverTCPWithPasswordAuth() throws {
        let scratch = TemporaryDirectory()
        let sandbox = Sandbox(directory: scratch.path + "/pg", port: try freeLoopbackPort(), tcp: true)
        #expect(sandbox.state == .absent)
        defer { try? sandbox.down() }

        let url = try sandbox.up()
        #expect(url == "postgresql://postgres@127.0.0.1:\(sandbox.port)/postgres")
        #expect(sandbox.state == .running)
        #expect(try sandbox.up() == url)

        let admin = try connect(url, application: "opsctl/test/sandbox")
        #expect(try admin.value("SELECT inet_server_addr()::text") == .text("127.0.0.1/32"))
        let dbURL = try sandbox.createDatabase("lifecycle")
        #expect(try connect(dbURL).value("SELECT current_database()") == .text("lifecycle"))

        // Password auth for one role over TCP (the sandbox trusts everyone else).
        try admin.execute("CREATE ROLE pw_user LOGIN PASSWORD '\(passwordCanary)'")
        let hba = sandbox.directory + "/data/pg_hba.conf"
        let rules = try String(contentsOfFile: hba, encoding: .utf8)
        try ("host all pw_user 127.0.0.1/32 scram-sha-256\n" + rules).write(toFile: hba, atomically: false, encoding: .utf8)
        #expect(try admin.value("SELECT pg_reload_conf()") == .bool(true))

        let wrong = "postgresql://pw_user:wrong-\(passwordCanary)@127.0.0.1:\(sandbox.port)/lifecycle"
        var failure: PostgresError?
        #expect(eventually(timeout: 10) {
            failure = postgresError { _ = try PostgresConnection(dsn: wrong) }
            return failure?.description.contains("password authentication failed") == true
        }, "\(String(describing: failure))")
        let error = try #require(failure)
        #expect(error.kind == .connection)
        #expect(error.nextStep == "check the user and password in the database URL")
        #expect(error.endpoint == "pw_user@127.0.0.1:\(sandbox.port)/lifecycle")
        for text in allText(of: error) {
            #expect(!text.contains(passwordCanary), "leaked: \(text)")
            #expect(!text.contains("\n"), "not one line: \(text)")
        }

        let right = "postgresql://pw_user:\(passwordCanary)@127.0.0.1:\(sandbox.port)/lifecycle"
        #expect(try connect(right).value("SELECT current_user") == .text("pw_user"))
        admin.close()

        try sandbox.down()
        #expect(sandbox.state == .absent)
        #expect(!FileManager.default.fileExists(atPath: sandbox.directory))
        try sandbox.down()
    }
}
