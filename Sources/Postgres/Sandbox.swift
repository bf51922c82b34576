import Foundation
import Support

/// A throwaway Postgres cluster: initdb + pg_ctl in one directory, unix socket inside it,
/// optional TCP on 127.0.0.1. When run as root the server runs as the `postgres` user
/// (initdb refuses root). Every operation is idempotent.
public struct Sandbox: Sendable {
    public enum State: String, Sendable { case running, stopped, absent }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public var directory: String
    public var port: Int
    /// Also listen on 127.0.0.1:port.
    public var tcp: Bool

    public static let defaultPort = 55432
    public static var defaultDirectory: String {
        let tmp = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        return tmp + "/opsctl-sandbox-\(getuid())"
    }

    public init(directory: String = Sandbox.defaultDirectory, port: Int = Sandbox.defaultPort, tcp: Bool = false) {
        self.directory = directory
        self.port = port
        self.tcp = tcp
    }

    var dataDirectory: String { directory + "/data" }
    var logFile: String { directory + "/server.log" }

    /// Superuser URL of the `postgres` database (or `database`).
    public func url(database: String = "postgres") -> String {
        if tcp { return "postgresql://postgres@127.0.0.1:\(port)/\(database)" }
        return "postgresql://postgres@/\(database)?host=\(directory)&port=\(port)"
    }

    public var state: State {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") else { return .absent }
        guard let out = try? pg(["pg_ctl", "-D", dataDirectory, "status"]) else { return .stopped }
        return out.exitCode == 0 ? .running : .stopped
    }

    /// Creates (if needed) and starts the cluster; returns its URL.
    @discardableResult
    public func up() throws -> String {
        try up(creatingWith: ["initdb", "-D", dataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
               failure: "initdb failed in \(dataDirectory)")
    }

    /// Creates (if needed) and starts this cluster as a streaming standby of the running `primary`
    /// (`pg_basebackup -R`, WAL streamed during the copy): a real replica, which is how the
    /// replication checks are driven to warn and fail. Returns the standby's URL.
    @discardableResult
    public func upAsStandby(of primary: Sandbox) throws -> String {
        try up(creatingWith: ["pg_basebackup", "-D", dataDirectory, "-h", primary.directory, "-p", String(primary.port),
                              "-U", "postgres", "-X", "stream", "-R", "--no-sync"],
               failure: "pg_basebackup from \(primary.directory) failed")
    }

    /// Starts the cluster, first making its data directory with `create` when it has none.
    private func up(creatingWith create: [String], failure: String) throws -> String {
        let fm = FileManager.default
        if state == .running { return url() }
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if Self.runsAsRoot { try chownToPostgres(directory) }
        if !fm.fileExists(atPath: dataDirectory + "/PG_VERSION") {
            try? fm.removeItem(atPath: dataDirectory)
            let out = try pg(create)
            guard out.exitCode == 0 else { throw Failure(description: "\(failure): \(Self.lastLines(out.stderr + out.stdout))") }
        }
        return try start()
    }

    private func start() throws -> String {
        let listen = tcp ? "127.0.0.1" : "''"
        let serverOptions = "-k \(directory) -p \(port) -c listen_addresses=\(listen) -c fsync=off "
            + "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        let out = try pg(["pg_ctl", "-D", dataDirectory, "-l", logFile, "-w", "-t", "60", "-o", serverOptions, "start"])
        guard out.exitCode == 0 else {
            let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            throw Failure(description: "pg_ctl start failed (port \(port)): \(Self.lastLines(log + out.stderr)) — "
                + "is another server using port \(port)? try --port")
        }
        return url()
    }

    /// Stops the server and removes the directory.
    public func down() throws {
        if state == .running {
            let out = try pg(["pg_ctl", "-D", dataDirectory, "-m", "fast", "-w", "stop"])
            guard out.exitCode == 0 else {
                throw Failure(description: "pg_ctl stop failed: \(Self.lastLines(out.stderr))")
            }
        }
        if FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Creates a fresh database (dropping one of the same name) and returns its URL.
    public func createDatabase(_ name: String) throws -> String {
        let admin = try PostgresConnection(dsn: url(), applicationName: "opsctl/sandbox")
        defer { admin.close() }
        try admin.execute("DROP DATABASE IF EXISTS \(quoteIdentifier(name)) WITH (FORCE)")
        try admin.execute("CREATE DATABASE \(quoteIdentifier(name))")
        return url(database: name)
    }

    // MARK: - Running the server binaries

    static var runsAsRoot: Bool { geteuid() == 0 }

    /// Debian keeps initdb/pg_ctl out of PATH under /usr/lib/postgresql/N/bin.
    static func binary(_ name: String) -> String? {
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap(Int.init).sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin" }
        return ProcessRunner.which(name, extraDirectories: versions)
    }

    private func pg(_ arguments: [String]) throws -> ProcessOutput {
        guard let tool = Self.binary(arguments[0]) else {
            throw Failure(description: "\(arguments[0]) not found: install the PostgreSQL server (apt-get install postgresql)")
        }
        var argv = [tool] + arguments.dropFirst()
        if Self.runsAsRoot { argv = ["runuser", "-u", "postgres", "--"] + argv }
        var env = ProcessInfo.processInfo.environment
        env["LC_ALL"] = "C"
        return try ProcessRunner.run(argv, environment: env, directory: directory.isEmpty ? nil : (FileManager.default.fileExists(atPath: directory) ? directory : "/"), timeout: 120)
    }

    private func chownToPostgres(_ path: String) throws {
        let out = try ProcessRunner.run(["chown", "postgres:postgres", path])
        guard out.exitCode == 0 else {
            throw Failure(description: "could not hand \(path) to the postgres user: \(out.stderr) — does the 'postgres' user exist? (apt-get install postgresql)")
        }
    }

    static func lastLines(_ text: String, _ n: Int = 3) -> String {
        text.split(separator: "\n").suffix(n).joined(separator: " | ")
    }
}
