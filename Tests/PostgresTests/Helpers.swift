import Foundation
import Postgres
import TestSupport

/// A password-shaped value that must never appear in any error text.
let passwordCanary = "canary-pw-7Q2x9ZK"

/// Connects to `url` with an application name that tells DBAs (and these tests) who is connected.
func connect(_ url: String, application: String = "opsctl/test") throws -> PostgresConnection {
    try PostgresConnection(dsn: url, applicationName: application)
}

extension PostgresConnection {
    /// The single value of a one-row, one-column query.
    func value(_ sql: String, _ parameters: [any PostgresBindable] = []) throws -> PostgresValue {
        try query(sql, parameters).first?[0] ?? .null
    }
}

/// Polls `condition` until it holds or `seconds` pass.
/// True once the backend `pid` is running a statement containing `fragment`.
func waitUntilActive(pid: Int, fragment: String, observer: PostgresConnection) throws -> Bool {
    try eventually(every: 0.02) {
        try observer.value("""
            SELECT count(*) FROM pg_stat_activity
             WHERE pid = $1 AND state = 'active' AND position($2 in query) > 0
            """, [pid, fragment]).int == 1
    }
}

/// The error a throwing expression raised, as a PostgresError (nil if it did not throw one).
func postgresError(_ body: () throws -> Void) -> PostgresError? {
    do {
        try body()
        return nil
    } catch let error as PostgresError {
        return error
    } catch {
        return nil
    }
}

/// Every piece of text an error can put in front of a user.
func allText(of error: PostgresError) -> [String] {
    [error.description, "\(error)", String(reflecting: error), error.message, error.endpoint ?? "",
     error.detail ?? "", error.hint ?? "", error.nextStep ?? ""]
}
