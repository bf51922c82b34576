import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Postgres bound parameters", .enabled(if: TestDatabase.available))
struct ParameterTests {
    static let database = Result {
        let url = try TestDatabase.fresh("pg_parameters")
        try connect(url).execute("CREATE TABLE notes (id serial PRIMARY KEY, body text, tags text[])")
        return url
    }
    let db: PostgresConnection

    init() throws { db = try connect(Self.database.get()) }

    @Test("hostile text is stored literally, never executed", arguments: [
        "O'Reilly", "'; DROP TABLE notes; --", #"Robert"); DROP TABLE notes;--"#, "$1", "\\x00 not a nul",
        "line\nbreak\ttab", "emoji 🚨 and ünïcode", "", "  padded  ", "{\"json\": true}", "NULL",
    ])
    func hostileText(value: String) throws {
        let id = try #require(try db.value("INSERT INTO notes (body) VALUES ($1) RETURNING id", [value]).int)
        #expect(try db.value("SELECT body FROM notes WHERE id = $1", [id]) == .text(value))
        #expect(try db.value("SELECT count(*) FROM pg_tables WHERE tablename = 'notes'") == .int(1))
    }

    @Test func nilIsSQLNull() throws {
        let missing: String? = nil
        #expect(try db.value("SELECT $1::text IS NULL", [missing]) == .bool(true))
        let present: String? = "x"
        #expect(try db.value("SELECT $1::text", [present]) == .text("x"))
    }

    @Test func integersRoundTrip() throws {
        #expect(try db.value("SELECT $1::int8", [Int.max]) == .int(Int64(Int.max)))
        #expect(try db.value("SELECT $1::int8", [Int64.min]) == .int(Int64.min))
        #expect(try db.value("SELECT $1::int4 + $2::int4", [40, 2]) == .int(42))
    }

    @Test("doubles round-trip exactly", arguments: [0.1, -2.5, 1e-300, 1e300, Double.infinity, -Double.infinity])
    func doublesRoundTrip(value: Double) throws {
        #expect(try db.value("SELECT $1::float8", [value]) == .double(value))
    }

    @Test func nanRoundTrips() throws {
        #expect(try db.value("SELECT $1::float8", [Double.nan]).double?.isNaN == true)
    }

    @Test func booleansRoundTrip() throws {
        #expect(try db.value("SELECT $1::bool", [true]) == .bool(true))
        #expect(try db.value("SELECT NOT $1::bool", [false]) == .bool(true))
    }

    @Test func datesRoundTripToTheMillisecond() throws {
        let date = Date(timeIntervalSince1970: 1_795_519_053.125)
        let back = try #require(try db.value("SELECT $1::timestamptz", [date]).date)
        #expect(abs(back.timeIntervalSince(date)) < 0.001)
    }

    @Test func stringArraysRoundTrip() throws {
        let tags = ["plain", "with space", "com,ma", #"quo"te"#, #"back\slash"#, "NULL", "", "{brace}"]
        let id = try #require(try db.value("INSERT INTO notes (tags) VALUES ($1) RETURNING id", [tags]).int)
        let back = try db.value("SELECT tags FROM notes WHERE id = $1", [id])
        #expect(back == .array(tags.map(PostgresValue.text)))
        #expect(try db.value("SELECT cardinality($1::text[])", [[String]()]) == .int(0))
    }

    @Test func textArraysWithNullsRoundTrip() throws {
        let values: [String?] = ["plain", nil, "NULL", #"quo"te"#, #"back\slash"#, #"\""#, "", "com,ma", "{brace}", "žluť ✓", nil]
        let back = try db.value("SELECT $1::text[]", [PostgresTextArray(values)])
        #expect(back == .array(values.map { $0.map(PostgresValue.text) ?? .null }))
        #expect(try db.value("SELECT cardinality($1::text[])", [PostgresTextArray([])]) == .int(0))
    }

    @Test func manyParameters() throws {
        let values = (1...100).map { $0 }
        let placeholders = (1...100).map { "$\($0)::int" }.joined(separator: " + ")
        #expect(try db.value("SELECT \(placeholders)", values) == .int(5050))
    }

    @Test("a NUL byte is rejected, not silently truncated")
    func nulByteIsRejected() throws {
        let error = try #require(postgresError { _ = try db.query("SELECT $1::text", ["before\0after"]) })
        #expect(error.kind == .query)
        #expect(error.description.contains("NUL"))
        #expect(try db.value("SELECT 1") == .int(1))
    }

    @Test func parameterCountMismatchIsAQueryError() throws {
        let error = try #require(postgresError { _ = try db.query("SELECT $1::int + $2::int", [1]) })
        #expect(error.kind == .query)
        #expect(error.sqlState == "08P01")
        #expect(try db.value("SELECT 1") == .int(1))
    }

    @Test func quotedIdentifiers() throws {
        let name = #"odd "table"; name"#
        try db.execute("CREATE TABLE IF NOT EXISTS \(quoteIdentifier(name)) (x int)")
        try db.query("INSERT INTO \(quoteIdentifier(name)) VALUES ($1)", [5])
        #expect(try db.value("SELECT x FROM \(quoteIdentifier(name))") == .int(5))
        #expect(quoteIdentifier(#"a"b"#) == #""a""b""#)
    }
}
