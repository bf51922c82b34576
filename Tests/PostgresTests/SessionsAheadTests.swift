import Foundation
import Postgres
import Testing
import TestSupport

/// Sessions a command opens ahead of need (while it parses its files): handed out once, then none;
/// the ones nobody took are closed; a connect that failed is forgotten rather than handed out.
@Suite("sessions opened ahead", .enabled(if: TestDatabase.available), .serialized)
struct SessionsAheadTests {
    static let database = Result { try TestDatabase.fresh("sessions_ahead") }
    let url: String

    init() throws { url = try Self.database.get() }

    func sessions(named app: String) throws -> Int {
        let probe = try connect(url, application: "opsctl/test/probe")
        defer { probe.close() }
        return try probe.query("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1", [app]).first?["n"].int ?? -1
    }

    @Test func aPoolHandsOutTheSessionsOpenedAheadOnceEach() throws {
        let url = self.url
        let app = "opsctl/test/ahead-taken"
        PostgresSessionPool.openAhead(url, count: 2) { try PostgresConnection(dsn: url, applicationName: app) }
        let pool = PostgresSessionPool()
        let a = try #require(pool.take(url), "the pool has no idle session: one opened ahead")
        let b = try #require(PostgresSessionPool.takeOpenedAhead(url))
        #expect(a.isIdle && b.isIdle)
        #expect(a.backendPID != b.backendPID)
        #expect(try a.query("SELECT 1 AS one").first?["one"].int == 1)
        #expect(pool.take(url) == nil, "each is handed out once")
        #expect(PostgresSessionPool.takeOpenedAhead(url) == nil)
        // A session given back is the pool's again, before any opened ahead.
        pool.giveBack(a, dsn: url)
        #expect(pool.take(url)?.backendPID == a.backendPID)
        a.close()
        b.close()
        #expect(eventually(timeout: 10) { (try? sessions(named: app)) == 0 })
    }

    @Test func theOnesNobodyTookAreClosed() throws {
        let url = self.url
        let app = "opsctl/test/ahead-unused"
        PostgresSessionPool.openAhead(url, count: 2) { try PostgresConnection(dsn: url, applicationName: app) }
        PostgresSessionPool.closeOpenedAhead()
        #expect(PostgresSessionPool.takeOpenedAhead(url) == nil)
        #expect(eventually(timeout: 10) { (try? sessions(named: app)) == 0 }, "no session left behind, even one still connecting when closed")
    }

    @Test func aConnectThatFailedIsForgotten() throws {
        let nowhere = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"
        PostgresSessionPool.openAhead(nowhere, count: 1) { try PostgresConnection(dsn: nowhere, applicationName: "opsctl/test/ahead-failed") }
        #expect(PostgresSessionPool.takeOpenedAhead(nowhere) == nil)
        #expect(PostgresSessionPool().take(nowhere) == nil)
    }
}
