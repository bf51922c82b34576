import Checks
import Foundation
import Postgres
import Support
import TestSupport

/// A shipped profile stood up for a test: its own sandbox database with the example's migrations and
/// healthy seed data, the receiver playing the service, and the example opsctl.yaml pointed at both.
final class ProfileStand {
    struct Failure: Error, CustomStringConvertible { var description: String }


    let profile: ShippedProfile
    let databaseURL: String
    let directory = TemporaryDirectory()
    var receiver: PythonFixture?
    var port = 0

    init(_ profile: ShippedProfile) throws {
        self.profile = profile
        databaseURL = try TestDatabase.fresh(profile.name.replacingOccurrences(of: "-", with: "_"))
        try FileManager.default.createSymbolicLink(atPath: directory.path + "/migrations", withDestinationPath: profile.example + "/migrations")
        try start()
        try writeConfig()
        try migrate()
        try execute(String(contentsOfFile: profile.example + "/seed/healthy.sql", encoding: .utf8))
    }

    deinit { stop() }

    var environment: [String: String] {
        var env = profile.secrets.merging(profile.deployEnv) { $1 }
        env[profile.databaseEnv] = databaseURL
        return env
    }

    /// The example's opsctl.yaml as shipped, with its local URLs pointed at this stand's receiver.
    func writeConfig() throws {
        var text = try String(contentsOfFile: profile.example + "/opsctl.yaml", encoding: .utf8)
        for (from, to) in profile.rewrites {
            guard text.contains(from) else { throw Failure(description: "\(profile.name)/opsctl.yaml no longer contains \(from)") }
            text = text.replacingOccurrences(of: from, with: to.replacingOccurrences(of: "{base}", with: "http://127.0.0.1:\(port)"))
        }
        _ = try directory.write("opsctl.yaml", text)
    }

    /// opsctl applies the example's migrations; for a TypeORM-owned schema psql applies them (as TypeORM
    /// would) and TypeORM's history table is filled, which opsctl adopts later with `migrate baseline`.
    func migrate() throws {
        if profile.typeorm {
            let files = try FileManager.default.contentsOfDirectory(atPath: profile.example + "/migrations")
                .filter { $0.hasSuffix(".sql") && !$0.hasSuffix(".down.sql") }.sorted()
            for file in files { try execute(String(contentsOfFile: profile.example + "/migrations/" + file, encoding: .utf8)) }
            try execute(String(contentsOfFile: profile.example + "/seed/typeorm.sql", encoding: .utf8))
        } else {
            let applied = try opsctl(["migrate", "apply"])
            guard applied.exitCode == 0 else { throw Failure(description: "migrate apply: \(applied.stdout)\(applied.stderr)") }
        }
        try execute("CREATE TABLE receiver_deliveries (event_id text NOT NULL, at timestamptz NOT NULL DEFAULT now())")
    }

    func start() throws {
        let fixture = try PythonFixture(script: "profile_receiver.py", arguments: [profile.receiverConfig, databaseURL], environment: profile.secrets)
        port = fixture.port
        receiver = fixture
    }

    /// The receiver goes down (SIGKILL, on release of the fixture).
    func stop() {
        receiver = nil
    }

    func opsctl(_ arguments: [String]) throws -> ProcessOutput {
        try Opsctl.run(arguments, env: environment, directory: directory.path)
    }

    /// The steps of a run that are neither ok nor skipped (`--format json` output).
    static func red(_ output: ProcessOutput) -> [String] {
        reportSteps(output.stdout).filter { !["ok", "skipped"].contains($0["status"]?.string ?? "") }
            .map { "\($0["id"]?.string ?? "?"): \($0["status"]?.string ?? "?") \($0["message"]?.string ?? "")" }
    }

    @discardableResult
    func execute(_ sql: String) throws -> QueryResult {
        let db = try PostgresConnection(dsn: databaseURL)
        defer { db.close() }
        return try db.execute(sql)
    }

    func count(_ sql: String) throws -> Int {
        let db = try PostgresConnection(dsn: databaseURL)
        defer { db.close() }
        return try db.query(sql).first?["n"].int ?? -1
    }

    func events(where condition: String) throws -> Int {
        try count("SELECT count(*) AS n FROM \(profile.eventTable) WHERE \(condition)")
    }

    func ids(where condition: String) throws -> [String] {
        let db = try PostgresConnection(dsn: databaseURL)
        defer { db.close() }
        return try db.query("SELECT \(profile.providerID)::text AS id FROM \(profile.eventTable) WHERE \(condition) ORDER BY 1")
            .rows.compactMap { $0["id"].string }
    }
}

/// Steps of a JSON report, included runbooks' steps (details.steps) flattened in.
func reportSteps(_ json: String) -> [JSONValue] {
    func flatten(_ steps: [JSONValue]) -> [JSONValue] {
        steps.flatMap { [$0] + flatten($0["details"]?["steps"]?.array ?? []) }
    }
    return flatten(JSONValue.parse(json)?["results"]?.array ?? [])
}

func reportStep(_ json: String, _ id: String) -> JSONValue? {
    reportSteps(json).first { $0["id"]?.string == id }
}
