import Foundation
import Support

/// How a Postgres command-line client (pg_dump, pg_restore, psql) reaches the server a DSN names,
/// optionally another database on it: a keyword connection string without the password, which
/// travels in PGPASSWORD instead so it never shows in the process list.
public struct ClientConnection: Sendable {
    /// `host='…' port='…' dbname='…'`: for `-d`.
    public var conninfo: String
    /// PGPASSWORD (when the DSN had one) and PGAPPNAME, for the child's environment.
    public var environment: [String: String]
    public var database: String?
    /// The same with the password, for opsctl's own connection (libpq in process: no process list).
    public var dsn: String

    public init(dsn: String, database: String? = nil, applicationName: String = "opsctl") throws {
        SecretMasker.shared.registerPassword(inDSN: dsn)
        var options = try ConnectionInfo.parse(dsn).options
        if let database { options["dbname"] = database }
        environment = ["PGAPPNAME": String(applicationName.prefix(63))]
        if let password = options.removeValue(forKey: "password") { environment["PGPASSWORD"] = password }
        options.removeValue(forKey: "application_name")
        self.database = options["dbname"]
        func quoted(_ value: String) -> String {
            "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
        }
        conninfo = options.keys.sorted().map { "\($0)=\(quoted(options[$0]!))" }.joined(separator: " ")
        self.dsn = conninfo + (environment["PGPASSWORD"].map { " password=\(quoted($0))" } ?? "")
    }
}
