import Foundation
import Postgres
import Testing
import TestSupport

/// Bad connection input: one-line messages that name the host and never contain the password.
@Suite("Postgres connection errors")
struct ConnectionErrorTests {
    @Test("malformed DSNs", arguments: [
        "postgresql://app:\(passwordCanary)@db.internal:5432/app?no_such_option=1",
        "postgresql://app:\(passwordCanary)%zz@db.internal/app",
        "postgresql://app:\(passwordCanary)@[::1/app",
        "host=db.internal user=app password=\(passwordCanary) dbname",
        "host=db.internal password='\(passwordCanary)",
        "host=db.internal password=\(passwordCanary) sslmode=sometimes",
        "postgresql://app:\(passwordCanary)@db.internal:notaport/app",
        "not a dsn \(passwordCanary)",
    ])
    func malformedDSN(dsn: String) throws {
        let error = try #require(postgresError { _ = try PostgresConnection(dsn: dsn, connectTimeout: 2) })
        #expect(error.kind == .configuration || error.kind == .connection, "\(error)")
        for text in allText(of: error) {
            #expect(!text.contains(passwordCanary), "leaked: \(text)")
            #expect(!text.contains("\n"), "not one line: \(text)")
        }
        #expect(error.nextStep?.isEmpty == false)
    }

    @Test("refused port", arguments: [
        "postgresql://app:\(passwordCanary)@127.0.0.1:1/app",
        "host=127.0.0.1 port=1 user=app password=\(passwordCanary) dbname=app",
    ])
    func refusedPort(dsn: String) throws {
        let error = try #require(postgresError { _ = try PostgresConnection(dsn: dsn, connectTimeout: 2) })
        #expect(error.kind == .connection)
        #expect(error.description.contains("127.0.0.1"))
        #expect(error.description.lowercased().contains("refused"))
        #expect(error.nextStep?.contains("running") == true)
        for text in allText(of: error) {
            #expect(!text.contains(passwordCanary), "leaked: \(text)")
            #expect(!text.contains("\n"), "not one line: \(text)")
        }
    }

    @Test func unknownHost() throws {
        let dsn = "postgresql://app:\(passwordCanary)@nonexistent.invalid:5432/app"
        let error = try #require(postgresError { _ = try PostgresConnection(dsn: dsn, connectTimeout: 2) })
        #expect(error.kind == .connection)
        #expect(error.description.contains("nonexistent.invalid"))
        #expect(error.nextStep?.contains("host") == true)
        for text in allText(of: error) {
            #expect(!text.contains(passwordCanary), "leaked: \(text)")
            #expect(!text.contains("\n"), "not one line: \(text)")
        }
    }

    @Test func unreachableSocketDirectory() throws {
        let dsn = "postgresql://app:\(passwordCanary)@/app?host=/nonexistent/opsctl-socket-dir&port=5432"
        let error = try #require(postgresError { _ = try PostgresConnection(dsn: dsn, connectTimeout: 2) })
        #expect(error.kind == .connection)
        #expect(error.description.contains("/nonexistent/opsctl-socket-dir"))
        #expect(!error.description.contains(passwordCanary))
    }

    @Test func endpointNamesUserHostPortAndDatabaseOnly() throws {
        let error = try #require(postgresError {
            _ = try PostgresConnection(dsn: "postgresql://app:\(passwordCanary)@127.0.0.1:1/appdb", connectTimeout: 2)
        })
        #expect(error.endpoint == "app@127.0.0.1:1/appdb")
    }

    @Test func missingEnvironmentVariable() throws {
        let error = try #require(postgresError {
            _ = try PostgresConnection(environmentVariable: "OPSCTL_TEST_NO_SUCH_URL", environment: [:])
        })
        #expect(error.kind == .configuration)
        #expect(error.description.contains("OPSCTL_TEST_NO_SUCH_URL"))
    }

    @Test func emptyEnvironmentVariable() throws {
        let error = try #require(postgresError {
            _ = try PostgresConnection(environmentVariable: "DB", environment: ["DB": ""])
        })
        #expect(error.kind == .configuration)
    }
}
