import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Postgres server errors", .enabled(if: TestDatabase.available))
struct ServerErrorTests {
    static let database = Result { try TestDatabase.fresh("pg_errors") }
    let db: PostgresConnection

    init() throws { db = try connect(Self.database.get()) }

    @Test func syntaxErrorCarriesSQLStateSeverityAndPosition() throws {
        let error = try #require(postgresError { _ = try db.query("SELECT * FRM t") })
        #expect(error.kind == .query)
        #expect(error.sqlState == "42601")
        #expect(error.severity == "ERROR")
        #expect(error.position == 10)
        #expect(error.message.contains("FRM"))
        #expect(error.description.contains("SQLSTATE 42601"))
        #expect(!error.description.contains("\n"))
    }

    @Test func undefinedFunctionCarriesHint() throws {
        let error = try #require(postgresError { _ = try db.query("SELECT nonexistent_fn(1)") })
        #expect(error.sqlState == "42883")
        #expect(error.position == 8)
        #expect(error.hint?.contains("No function matches") == true)
        #expect(error.description.contains("hint:"))
    }

    @Test func uniqueViolationCarriesDetail() throws {
        try db.execute("CREATE TABLE IF NOT EXISTS uniq (id int PRIMARY KEY); TRUNCATE uniq")
        try db.query("INSERT INTO uniq VALUES ($1)", [1])
        let error = try #require(postgresError { _ = try db.query("INSERT INTO uniq VALUES ($1)", [1]) })
        #expect(error.sqlState == "23505")
        #expect(error.detail == "Key (id)=(1) already exists.")
        #expect(error.description.contains("already exists"))
    }

    @Test func raisedExceptionCarriesEveryField() throws {
        let error = try #require(postgresError {
            try db.execute("""
                DO $$ BEGIN RAISE EXCEPTION 'boom' USING DETAIL = 'the detail', HINT = 'the hint', ERRCODE = 'P0001'; END $$
                """)
        })
        #expect(error.message == "boom")
        #expect(error.sqlState == "P0001")
        #expect(error.severity == "ERROR")
        #expect(error.detail == "the detail")
        #expect(error.hint == "the hint")
        #expect(error.position == nil)
    }

    @Test("errors by SQLSTATE", arguments: [
        ("SELECT 1 / 0", "22012"), ("SELECT 'x'::int", "22P02"), ("SELECT * FROM no_such_table", "42P01"),
        ("SELECT no_such_column FROM pg_class", "42703"),
    ])
    func sqlStates(sql: String, state: String) throws {
        let error = try #require(postgresError { _ = try db.query(sql) })
        #expect(error.sqlState == state)
        #expect(error.kind == .query)
        #expect(error.endpoint?.contains("postgres@") == true)
    }

    @Test func connectionStaysUsableAfterAnError() throws {
        _ = postgresError { _ = try db.query("SELECT 1 / 0") }
        #expect(try db.value("SELECT 2") == .int(2))
    }

    @Test func failedTransactionIsRolledBack() throws {
        try db.execute("CREATE TABLE IF NOT EXISTS tx (id int); TRUNCATE tx")
        let error = postgresError {
            _ = try db.transaction { c in
                try c.query("INSERT INTO tx VALUES ($1)", [1])
                try c.query("SELECT 1 / 0")
            }
        }
        #expect(error?.sqlState == "22012")
        #expect(try db.value("SELECT count(*) FROM tx") == .int(0))
        #expect(try db.value("SELECT 3") == .int(3), "the session is not left in an aborted transaction")
    }

    @Test func transactionCommitsAndReturnsItsValue() throws {
        try db.execute("CREATE TABLE IF NOT EXISTS tx2 (id int); TRUNCATE tx2")
        let inserted = try db.transaction { c in try c.query("INSERT INTO tx2 VALUES (1), (2)").affectedRows }
        #expect(inserted == 2)
        #expect(try db.value("SELECT count(*) FROM tx2") == .int(2))
    }

    @Test("a lost connection is reported as such, not as a query error")
    func lostConnection() throws {
        let victim = try connect(Self.database.get(), application: "opsctl/test/victim")
        #expect(try db.value("SELECT pg_terminate_backend($1)", [victim.backendPID]) == .bool(true))
        let error = try #require(postgresError { _ = try victim.query("SELECT 1") })
        #expect(error.kind == .connection)
        #expect(error.nextStep != nil)
        #expect(!error.description.contains("\n"))
    }

    @Test("using a closed connection throws instead of crashing")
    func closedConnection() throws {
        let c = try connect(Self.database.get())
        c.close()
        c.close()
        let error = try #require(postgresError { _ = try c.query("SELECT 1") })
        #expect(error.kind == .connection)
        #expect(postgresError { try c.execute("SELECT 1") }?.kind == .connection)
        c.cancel()
    }

    @Test func emptyStatement() throws {
        let r = try db.execute("")
        #expect(r.rows.isEmpty)
    }
}
