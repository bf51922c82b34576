import Checks
import Foundation
import Postgres
import Testing
import TestSupport
@testable import Runbooks

/// `database:` on a step or an include: the step runs against that database on the environment's
/// server, whatever its kind, with the credentials left in the environment's variable.
@Suite("step database:", .enabled(if: TestDatabase.available))
struct StepDatabaseTests {
    static func run(_ yaml: String, url: String) throws -> RunReport {
        let runbook = try loadRunbook(yaml)
        var options = RunOptions(environment: EnvironmentConfig(name: "test"))
        options.processEnvironment = ProcessInfo.processInfo.environment.merging(["DATABASE_URL": url]) { $1 }
        return Executor(runbook: runbook, options: options, reporter: nil, journal: nil).run()
    }

    static func name(_ url: String) throws -> String {
        let db = try PostgresConnection(dsn: url)
        defer { db.close() }
        return try #require(try db.query("SELECT current_database() AS d").first?["d"].string)
    }

    @Test func aStepAndAnInterpolatedStepReachTheNamedDatabase() throws {
        let own = try TestDatabase.fresh("step_db_own"), other = try TestDatabase.fresh("step_db_other")
        let otherName = try Self.name(other)
        let report = try Self.run("""
            name: t
            params:
              target: { type: string, default: \(otherName) }
            steps:
              - id: here
                kind: sql.query
                with: { sql: "SELECT current_database() AS db", message: "{db}" }
              - id: there
                kind: sql.query
                database: ${params.target}
                with: { sql: "SELECT current_database() AS db", message: "{db}" }
              - id: from-a-step
                kind: sql.query
                needs: there
                database: ${steps.there.message}
                with: { sql: "SELECT current_database() AS db", message: "{db}" }
              - id: empty-is-own
                kind: sql.query
                database: ""
                with: { sql: "SELECT current_database() AS db", message: "{db}" }
            """, url: own)
        let messages = Dictionary(uniqueKeysWithValues: report.results.map { ($0.id, $0.message) })
        #expect(messages["here"] == (try Self.name(own)))
        #expect(messages["there"] == otherName)
        #expect(messages["from-a-step"] == otherName)
        #expect(messages["empty-is-own"] == (try Self.name(own)))
    }

    @Test func aMissingDatabaseIsAnErrorThatShowsNoPassword() throws {
        let own = try TestDatabase.fresh("step_db_secret")
        // A password in the URL (the sandbox trusts local connections, so it is not checked).
        var parts = try #require(URLComponents(string: own))
        parts.password = "s3cret-Pa55word"
        let url = try #require(parts.string)
        let report = try Self.run("""
            name: t
            steps:
              - id: there
                kind: sql.query
                database: no_such_database_here
                with: { sql: "SELECT 1 AS one" }
            """, url: url)
        let result = try #require(report.results.first)
        #expect(result.status == .error)
        #expect(result.message.contains("no_such_database_here"), "\(result.message)")
        #expect(!result.message.contains("s3cret-Pa55word"))
        #expect(!"\(result.details)".contains("s3cret-Pa55word"))
    }

    @Test func aDatabaseReadFromAStepItDoesNotNeedIsALoadError() throws {
        let error = #expect(throws: LoadError.self) {
            _ = try loadRunbook("""
                steps:
                  - id: a
                    kind: pause
                    with: { duration: 1ms }
                  - id: b
                    kind: pause
                    database: ${steps.a.message}
                    with: { duration: 1ms }
                """)
        }
        #expect(error?.message.contains("reads steps.a but does not need it") == true)
    }

    @Test func anUnknownKeyNextToDatabaseStillNamesItsLine() throws {
        let error = #expect(throws: LoadError.self) {
            _ = try loadRunbook("steps:\n  - id: a\n    kind: pause\n    with: { duration: 1ms }\n    databse: x\n")
        }
        #expect(error?.line == 5)
        #expect(error?.message.contains("did you mean 'database'") == true, "\(String(describing: error))")
    }
}
