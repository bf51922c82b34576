import Foundation
import Postgres
import Support
import Testing
import TestSupport

@Suite("Postgres session", .enabled(if: TestDatabase.available))
struct SessionTests {
    static let database = Result { try TestDatabase.fresh("pg_session") }
    let url: String

    init() throws { url = try Self.database.get() }

    @Test func applicationNameIsVisibleInPgStatActivity() throws {
        let c = try connect(url, application: "opsctl/verify/check-db")
        let observer = try connect(url)
        let seen = try observer.value("SELECT application_name FROM pg_stat_activity WHERE pid = $1", [c.backendPID])
        #expect(seen == .text("opsctl/verify/check-db"))
        #expect(c.applicationName == "opsctl/verify/check-db")
    }

    @Test func applicationNameOverridesTheURLsAndIsCappedAt63() throws {
        let long = "opsctl/" + String(repeating: "x", count: 100)
        let c = try connect(url + "&application_name=from-url", application: long)
        #expect(c.applicationName.count == 63)
        #expect(try c.value("SHOW application_name") == .text(String(long.prefix(63))))
    }

    @Test func serverVersionAndPID() throws {
        let c = try connect(url)
        #expect(c.serverVersion.number >= 100_000)
        #expect(c.serverVersion.text.hasPrefix("\(c.serverVersion.number / 10000)."))
        #expect(try c.value("SELECT pg_backend_pid()") == .int(Int64(c.backendPID)))
    }

    @Test func endpointHasNoPassword() throws {
        let c = try connect(url)
        #expect(c.endpoint.hasPrefix("postgres@"))
        #expect(c.endpoint.hasSuffix("/" + (try c.value("SELECT current_database()").string ?? "?")))
    }

    @Test func connectsFromAnEnvironmentVariable() throws {
        let c = try PostgresConnection(environmentVariable: "OPSCTL_TEST_DB", environment: ["OPSCTL_TEST_DB": url],
                                       applicationName: "opsctl/test/env")
        #expect(try c.value("SELECT 1") == .int(1))
    }

    @Test func connectsWithAKeywordDSN() throws {
        let sandbox = TestDatabase.sandbox
        let name = try connect(url).value("SELECT current_database()").string ?? ""
        let dsn = "host=\(sandbox.directory) port=\(sandbox.port) user=postgres dbname=\(name)"
        let c = try connect(dsn)
        #expect(try c.value("SELECT current_database()") == .text(name))
    }

    @Test func registersTheURLPasswordWithTheMasker() throws {
        let secret = "registered-\(passwordCanary)"
        // Trust auth ignores the password; the driver still must treat it as a secret.
        let withPassword = url.replacingOccurrences(of: "postgresql://postgres@", with: "postgresql://postgres:\(secret)@")
        _ = try connect(withPassword)
        #expect(!SecretMasker.shared.mask("x \(secret) y").contains(secret))
    }
}
