import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Postgres typed decoding", .enabled(if: TestDatabase.available))
struct DecodingTests {
    static let database = Result { try TestDatabase.fresh("pg_decoding") }
    let db: PostgresConnection

    init() throws { db = try connect(Self.database.get()) }

    @Test func text() throws {
        #expect(try db.value("SELECT 'hello'::text") == .text("hello"))
        #expect(try db.value("SELECT 'héllo ✓ 日本'::varchar") == .text("héllo ✓ 日本"))
        #expect(try db.value("SELECT ''::text") == .text(""))
        #expect(try db.value("SELECT 'x'::name").string == "x")
    }

    @Test("integers", arguments: [
        ("SELECT 32767::int2", Int64(Int16.max)), ("SELECT (-32768)::int2", Int64(Int16.min)),
        ("SELECT 2147483647::int4", Int64(Int32.max)), ("SELECT (-2147483648)::int4", Int64(Int32.min)),
        ("SELECT 9223372036854775807::int8", Int64.max), ("SELECT (-9223372036854775808)::int8", Int64.min),
        ("SELECT 0::int4", 0), ("SELECT 42::oid", 42),
    ] as [(String, Int64)])
    func integers(sql: String, expected: Int64) throws {
        let v = try db.value(sql)
        #expect(v == .int(expected))
        #expect(v.int == Int(expected))
    }

    @Test func booleans() throws {
        #expect(try db.value("SELECT true") == .bool(true))
        #expect(try db.value("SELECT false") == .bool(false))
        #expect(try db.value("SELECT 1 = 1").bool == true)
    }

    @Test("floats and numerics", arguments: [
        ("SELECT 1.5::float8", 1.5), ("SELECT 0.1::float8", 0.1), ("SELECT (-2.25)::float4", -2.25),
        ("SELECT 12345.678::numeric", 12345.678), ("SELECT 1e300::float8", 1e300),
        ("SELECT 'Infinity'::float8", Double.infinity), ("SELECT '-Infinity'::float8", -Double.infinity),
        ("SELECT 3::numeric / 4", 0.75),
    ] as [(String, Double)])
    func floats(sql: String, expected: Double) throws {
        #expect(try db.value(sql) == .double(expected))
    }

    @Test func notANumber() throws {
        #expect(try db.value("SELECT 'NaN'::float8").double?.isNaN == true)
        #expect(try db.value("SELECT 'NaN'::numeric").double?.isNaN == true)
    }

    @Test("timestamptz", arguments: [
        ("2026-11-24 11:17:33.123456+00", 1_795_519_053.123456),
        ("2026-11-24 13:17:33.5+02", 1_795_519_053.5),
        ("2026-11-24 06:17:33-05", 1_795_519_053),
        ("1970-01-01 00:00:00+00", 0),
        ("2000-02-29 23:59:59.999+00", 951_868_799.999),
    ] as [(String, Double)])
    func timestamps(literal: String, epoch: Double) throws {
        let v = try db.value("SELECT $1::timestamptz", [literal])
        let date = try #require(v.date, "\(v)")
        #expect(abs(date.timeIntervalSince1970 - epoch) < 1e-5)
    }

    @Test func timestampWithoutTimeZoneReadsAsUTC() throws {
        let date = try #require(try db.value("SELECT '2026-11-24 11:17:33'::timestamp").date)
        #expect(date.timeIntervalSince1970 == 1_795_519_053)
    }

    @Test func nowIsRecent() throws {
        let date = try #require(try db.value("SELECT now()").date)
        #expect(abs(date.timeIntervalSinceNow) < 300)
    }

    @Test("timestamps a Date cannot hold stay text", arguments: [
        "infinity", "-infinity", "0044-03-15 00:00:00+00 BC", "10000-01-01 00:00:00+00",
    ])
    func specialTimestamps(literal: String) throws {
        let v = try db.value("SELECT $1::timestamptz", [literal])
        #expect(v.date == nil)
        #expect(v == .text(literal))
    }

    @Test("intervals (seconds; a month is 30 days, a year 365.25)", arguments: [
        ("1 second", 1.0), ("1.5 seconds", 1.5), ("-0.5 seconds", -0.5), ("0", 0),
        ("5 minutes", 300), ("2 hours 30 minutes", 9000), ("3 days", 259_200), ("-1 day", -86_400),
        ("1 day -1 hour", 82_800), ("1 mon", 2_592_000), ("1 year", 31_557_600),
        ("1 year 2 months 3 days 04:05:06.5", 37_015_506.5),
        ("2 weeks", 1_209_600),
    ] as [(String, Double)])
    func intervals(literal: String, seconds: Double) throws {
        let v = try db.value("SELECT $1::interval", [literal])
        #expect(v == .interval(seconds))
        #expect(v.double == seconds)
    }

    @Test func intervalFromArithmetic() throws {
        let v = try db.value("SELECT timestamptz '2026-01-02 00:00:00+00' - timestamptz '2026-01-01 23:00:00+00'")
        #expect(v == .interval(3600))
    }

    @Test func jsonAndJsonb() throws {
        let v = try db.value(#"SELECT '{"status": "healthy", "checks": [1, 2, null]}'::jsonb"#)
        guard case let .json(text) = v else {
            Issue.record("expected .json, got \(v)")
            return
        }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["status"] as? String == "healthy")
        #expect((object["checks"] as? [Any])?.count == 3)
        #expect(try db.value(#"SELECT '[1,"a"]'::json"#) == .json(#"[1,"a"]"#))
        #expect(try db.value("SELECT 'null'::jsonb") == .json("null"))
    }

    @Test func textArraysWithQuotesCommasBackslashesAndNulls() throws {
        let v = try db.value(#"""
            SELECT ARRAY['a', 'b c', NULL, 'x"y', 'NULL', '', 'back\slash', 'com,ma', '{brace}', ' sp ']::text[]
            """#)
        #expect(v == .array([.text("a"), .text("b c"), .null, .text("x\"y"), .text("NULL"), .text(""),
                             .text("back\\slash"), .text("com,ma"), .text("{brace}"), .text(" sp ")]))
    }

    @Test func integerArrays() throws {
        #expect(try db.value("SELECT ARRAY[1, NULL, 3]::int4[]") == .array([.int(1), .null, .int(3)]))
        #expect(try db.value("SELECT ARRAY[9223372036854775807]::int8[]") == .array([.int(Int64.max)]))
        #expect(try db.value("SELECT ARRAY[-1, 2]::int2[]") == .array([.int(-1), .int(2)]))
        #expect(try db.value("SELECT '{}'::int[]") == .array([]))
        #expect(try db.value("SELECT ARRAY[]::text[]") == .array([]))
    }

    @Test func otherArrays() throws {
        #expect(try db.value("SELECT ARRAY[true, false, NULL]") == .array([.bool(true), .bool(false), .null]))
        #expect(try db.value("SELECT ARRAY[1.5, 2]::float8[]") == .array([.double(1.5), .double(2)]))
        #expect(try db.value("SELECT ARRAY['a', 'b']::varchar[]") == .array([.text("a"), .text("b")]))
    }

    @Test("arrays with explicit bounds decode their elements")
    func arrayWithBounds() throws {
        #expect(try db.value("SELECT '[0:2]={7,8,9}'::int[]") == .array([.int(7), .int(8), .int(9)]))
    }

    @Test("multi-dimensional arrays are not mangled into bogus elements")
    func multiDimensionalArray() throws {
        let v = try db.value("SELECT ARRAY[[1,2],[3,4]]")
        #expect(v == .array([.array([.int(1), .int(2)]), .array([.int(3), .int(4)])]))
    }

    @Test func nullOfAnyType() throws {
        for type in ["int", "text", "bool", "timestamptz", "interval", "jsonb", "int[]", "numeric"] {
            let v = try db.value("SELECT NULL::\(type)")
            #expect(v == .null)
            #expect(v.isNull)
            #expect(v.string == nil && v.int == nil && v.double == nil && v.bool == nil && v.date == nil)
            #expect(v.description == "NULL")
        }
    }

    @Test func unknownTypesStayText() throws {
        #expect(try db.value("SELECT '192.168.0.1'::inet") == .text("192.168.0.1"))
        #expect(try db.value("SELECT '2026-11-24'::date") == .text("2026-11-24"))
    }

    @Test func rowsByNameAndIndex() throws {
        let r = try db.query("SELECT 1 AS one, 'two' AS two, NULL::int AS three")
        #expect(r.columns.map(\.name) == ["one", "two", "three"])
        #expect(r.columns.map(\.typeOID) == [23, 25, 23])
        let row = try #require(r.first)
        #expect(row["one"] == .int(1))
        #expect(row[1] == .text("two"))
        #expect(row["three"].isNull)
        #expect(row["missing"].isNull)
        #expect(row[99].isNull)
    }

    @Test func manyRows() throws {
        let r = try db.query("SELECT g, g::text AS t FROM generate_series(1, 5000) g")
        #expect(r.rows.count == 5000)
        #expect(r.rows.last?["g"] == .int(5000))
        #expect(r.rows.last?["t"] == .text("5000"))
    }

    @Test func affectedRowsAndCommandTag() throws {
        try db.execute("CREATE TABLE IF NOT EXISTS affected (id int)")
        try db.execute("TRUNCATE affected")
        let insert = try db.query("INSERT INTO affected SELECT generate_series(1, 7)")
        #expect(insert.affectedRows == 7)
        #expect(insert.commandTag == "INSERT 0 7")
        let update = try db.query("UPDATE affected SET id = id + 1 WHERE id <= $1", [3])
        #expect(update.affectedRows == 3)
        #expect(try db.query("SELECT 1").affectedRows == 1)
        #expect(try db.query("CREATE TEMP TABLE tmp_affected (x int)").affectedRows == 0)
    }

    @Test func sessionSettingsMakeDecodingPredictable() throws {
        #expect(try db.value("SHOW TimeZone") == .text("UTC"))
        #expect(try db.value("SHOW DateStyle").string?.hasPrefix("ISO") == true)
        #expect(try db.value("SHOW IntervalStyle") == .text("iso_8601"))
    }
}
