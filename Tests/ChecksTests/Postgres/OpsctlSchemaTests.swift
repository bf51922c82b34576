import Foundation
import Postgres
import Testing
import TestSupport
@testable import Checks

/// Every creator of schema opsctl (the journal, replay, releases, retention, health state) goes through
/// OpsctlSchema: sessions creating it and their tables at once all succeed (without the shared lock, a
/// second concurrent `CREATE SCHEMA IF NOT EXISTS` fails with a unique violation; without a site's own
/// lock, so does a second `CREATE TABLE IF NOT EXISTS` of the same table), and a failed creation of
/// tables leaves none of them.
@Suite("opsctl schema creation", .enabled(if: TestDatabase.available), .serialized)
struct OpsctlSchemaTests {
    @Test func sessionsCreatingTheSchemaAtOnceAllSucceed() throws {
        for round in 0..<3 {
            let url = try TestDatabase.fresh("opsctl_schema_race_\(round)")
            let sessions = try (0..<6).map { _ in try PostgresConnection(dsn: url, applicationName: "schema-race") }
            defer { sessions.forEach { $0.close() } }
            let errors = Errors()
            let start = DispatchSemaphore(value: 0)
            let group = DispatchGroup()
            for (i, db) in sessions.enumerated() {
                DispatchQueue.global().async(group: group) {
                    start.wait()
                    do {
                        // The journal, a replay and the health state racing on a fresh database, twice each.
                        switch i % 3 {
                        case 0: try OpsctlSchema.create(db, "CREATE SCHEMA IF NOT EXISTS opsctl; CREATE TABLE IF NOT EXISTS opsctl.race_a (n int)", tables: "race")
                        case 1: try ReplayStore(db: db).ensureSchema()
                        default:
                            try db.transaction { db in
                                try OpsctlSchema.lock(inTransaction: db)
                                try db.execute("CREATE SCHEMA IF NOT EXISTS opsctl; CREATE TABLE IF NOT EXISTS opsctl.race_c (n int)")
                            }
                        }
                    } catch {
                        errors.add("session \(i): \(error)")
                    }
                }
            }
            for _ in sessions { start.signal() }
            group.wait()
            #expect(errors.all.isEmpty, "\(errors.all)")
            let check = sessions[0]
            let tables = try check.query("""
                SELECT string_agg(relname, ',' ORDER BY relname) AS t FROM pg_class
                 WHERE relnamespace = 'opsctl'::regnamespace AND relkind = 'r'
                """).first?["t"].string
            #expect(tables == "race_a,race_c,replay_items,replay_runs,replays")
        }
    }

    @Test func aFailedCreationRollsBackAndTheSessionGoesOn() throws {
        let url = try TestDatabase.fresh("opsctl_schema_failed")
        let db = try PostgresConnection(dsn: url)
        defer { db.close() }
        #expect(throws: PostgresError.self) {
            try OpsctlSchema.create(db, "CREATE TABLE opsctl.half (n int); SELECT 1/0", tables: "half")
        }
        #expect(try db.query("SELECT to_regclass('opsctl.half') IS NULL AS gone").first?["gone"].bool == true)
        #expect(try db.query("SELECT 1 AS one").first?["one"].int == 1, "no transaction left open")
    }
}

private final class Errors: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ e: String) { lock.withLock { list.append(e) } }
    var all: [String] { lock.withLock { list } }
}

/// A verb that knows its step connects opens the sessions ahead (RunService.run): the step's connect
/// takes one of them, named for the step, and opens its own once they are gone.
@Suite("A step connects with a session opened ahead", .enabled(if: TestDatabase.available), .serialized)
struct SessionsAheadTests {
    @Test func aStepTakesTheSessionOpenedAheadUnderItsOwnName() throws {
        let url = try TestDatabase.fresh("sessions_ahead")
        let opened = PIDs()
        PostgresSessionPool.openAhead(url, count: 1) {
            let db = try PostgresConnection(dsn: url, applicationName: "opsctl/ahead")
            opened.add(db.backendPID)
            return db
        }
        let context = StepContext(environment: ["DATABASE_URL": url], applicationName: "opsctl/replay/replay")
        let first = try context.connect()
        defer { first.close() }
        #expect(opened.all == [first.backendPID], "the step's session is the one opened ahead")
        #expect(try first.query("SELECT current_setting('application_name') AS name").first?["name"].string == "opsctl/replay/replay")
        let second = try context.connect()
        defer { second.close() }
        #expect(second.backendPID != first.backendPID)
        #expect(opened.all.count == 1, "none left ahead: a new session")
    }
}

private final class PIDs: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Int] = []
    func add(_ pid: Int) { lock.withLock { list.append(pid) } }
    var all: [Int] { lock.withLock { list } }
}
