import Foundation
import Postgres
@testable import Migrations

/// The outcomes of applies run on other threads, in the order they finished.
final class Results: @unchecked Sendable {
    private let lock = NSCondition()
    private var items: [Result<MigrationRunReport, Error>] = []
    func add(_ r: Result<MigrationRunReport, Error>) { lock.lock(); items.append(r); lock.broadcast(); lock.unlock() }
    func wait(count: Int) { lock.lock(); while items.count < count { lock.wait() }; lock.unlock() }
    var all: [Result<MigrationRunReport, Error>] { lock.lock(); defer { lock.unlock() }; return items }
}

/// Starts `body` on a thread; returns a way to wait for its outcome.
func inBackground(_ body: @escaping @Sendable () throws -> MigrationRunReport) -> Results {
    let results = Results()
    Thread { do { results.add(.success(try body())) } catch { results.add(.failure(error)) } }.start()
    return results
}

/// Whether the session named `application` is running a migration's `pg_sleep` right now (tests hold a
/// migration there to interrupt, terminate or inspect it).
func isSleeping(_ db: PostgresConnection, application: String) -> Bool {
    (try? db.query("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep%' AND state = 'active'",
                   [application]).first?["n"].int) == 1
}
