import Foundation
import Postgres
import Testing
import TestSupport

/// libpq pipeline mode: a batch of statements in one round trip, results in order, the first error stops the rest.
@Suite("Postgres pipelines", .enabled(if: TestDatabase.available))
struct PipelineTests {
    static let database = Result { try TestDatabase.fresh("pg_pipeline") }
    let url: String

    init() throws { url = try Self.database.get() }

    @Test func resultsComeBackInOrderWithTheirParameters() throws {
        let db = try connect(url)
        defer { db.close() }
        let out = try db.pipeline([
            PipelinedStatement("BEGIN"),
            PipelinedStatement("CREATE TABLE p1 (id int PRIMARY KEY, note text)"),
            PipelinedStatement("INSERT INTO p1 VALUES ($1, $2), (2, 'b')", [1, "a"]),
            PipelinedStatement("SELECT count(*) AS n, max(note) AS m FROM p1"),
            PipelinedStatement("COMMIT"),
        ])
        #expect(out.failure == nil)
        #expect(out.results.count == 5)
        #expect(out.results[2].affectedRows == 2)
        #expect(out.results[3].first?["n"].int == 2)
        #expect(out.results[3].first?["m"].string == "b")
        // The connection is back in normal mode.
        #expect(try db.value("SELECT count(*) FROM p1").int == 2)
    }

    @Test func theFirstErrorStopsTheRestAndNamesItsStatement() throws {
        let db = try connect(url)
        defer { db.close() }
        let out = try db.pipeline([
            PipelinedStatement("BEGIN"),
            PipelinedStatement("CREATE TABLE p2 (id int)"),
            PipelinedStatement("INSERT INTO no_such_table VALUES (1)"),
            PipelinedStatement("CREATE TABLE p3 (id int)"),
        ])
        let failure = try #require(out.failure)
        #expect(failure.index == 2)
        #expect(failure.error.sqlState == "42P01")
        #expect(out.results.count == 2)
        try db.execute("ROLLBACK")
        #expect(try db.value("SELECT to_regclass('p2') IS NULL AND to_regclass('p3') IS NULL").bool == true)
    }
}
