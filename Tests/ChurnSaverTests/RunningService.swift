import Foundation
import HTTP
import Postgres
import Support
import TestSupport
import Webhooks

/// The built `churn-saver` binary running on a free loopback port against a fresh database with the
/// reference migrations applied. Stopped by `stop()`, and in any case when the test process exits.
final class RunningService: @unchecked Sendable {
    let databaseURL: String
    let baseURL: String
    let secret: String
    let scheme: WebhookScheme
    private let process: Process

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var binary: String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("churn-saver").path
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(label: String, scheme: WebhookScheme = .whop, secret: String = "whop_test_secret_0123456789abcdef",
         environment: [String: String] = [:]) throws {
        databaseURL = try TestDatabase.fresh(label)
        self.secret = secret
        self.scheme = scheme
        try Self.applyReferenceMigrations(databaseURL)

        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = databaseURL
        env["WHOP_WEBHOOK_SECRET"] = secret
        env["WEBHOOK_SCHEME"] = scheme.rawValue
        env["PORT"] = "0"
        env.removeValue(forKey: "FAULTS")
        for (k, v) in environment { env[k] = v }
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        ChildReaper.shared.track(process.processIdentifier)

        // The first stdout line names the port the service bound.
        let handle = out.fileHandleForReading
        var buffer = Data()
        let deadline = Date().addingTimeInterval(30)
        var line: String?
        while line == nil, Date() < deadline, process.isRunning {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            let text = String(decoding: buffer, as: UTF8.self)
            line = text.split(separator: "\n").first { $0.hasPrefix("churn-saver listening on ") }.map(String.init)
        }
        guard let line else {
            process.terminate()
            throw Failure(description: "churn-saver did not start: \(String(decoding: buffer, as: UTF8.self))")
        }
        baseURL = String(line.dropFirst("churn-saver listening on ".count))
        // Keep draining stdout so the service never blocks on a full pipe.
        Thread.detachNewThread { while !handle.availableData.isEmpty {} }
    }

    static func applyReferenceMigrations(_ url: String) throws {
        let dir = repositoryRoot.appendingPathComponent("examples/churn-saver/migrations").path
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
            .filter { $0.hasSuffix(".sql") && !$0.hasSuffix(".down.sql") }.sorted()
        guard !files.isEmpty else { throw Failure(description: "no reference migrations in \(dir)") }
        for file in files {
            let out = try ProcessRunner.run(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", dir + "/" + file],
                                            timeout: 60)
            guard out.exitCode == 0 else { throw Failure(description: "\(file): \(out.stderr)") }
        }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        ChildReaper.shared.forget(process.processIdentifier)
    }

    // MARK: - HTTP

    @discardableResult
    func request(_ method: String, _ path: String, headers: [(name: String, value: String)] = [],
                 body: [UInt8]? = nil) throws -> HTTPResponse {
        try HTTPClient().send(HTTPRequest(method: method, url: baseURL + path, headers: headers, body: body, timeout: 20))
    }

    func json(_ response: HTTPResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    /// Posts `event` signed in the service's scheme (or the given one), `at` the given time.
    @discardableResult
    func deliver(_ event: [String: Any], scheme: WebhookScheme? = nil, secret: String? = nil,
                 at: Date = Date()) throws -> HTTPResponse {
        try deliver(body: try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]),
                    id: event["id"] as? String, scheme: scheme, secret: secret, at: at)
    }

    /// Posts an already encoded event body, signed.
    @discardableResult
    func deliver(body: Data, id: String?, scheme: WebhookScheme? = nil, secret: String? = nil,
                 at: Date = Date()) throws -> HTTPResponse {
        var headers = (scheme ?? self.scheme).sign(body: body, secret: secret ?? self.secret, timestamp: at, id: id)
        headers.append((name: "Content-Type", value: "application/json"))
        return try request("POST", "/api/webhooks/whop", headers: headers, body: Array(body))
    }

    // MARK: - Database

    func value(_ sql: String, _ parameters: [any PostgresBindable] = []) throws -> PostgresValue {
        let connection = try PostgresConnection(dsn: databaseURL, applicationName: "churn-saver-tests")
        defer { connection.close() }
        return try connection.query(sql, parameters).first?[0] ?? .null
    }

    func count(_ sql: String, _ parameters: [any PostgresBindable] = []) throws -> Int {
        try value(sql, parameters).int ?? -1
    }

}


/// Event payloads in the shape the service reads.
enum Events {
    static func make(_ type: String, membership: String, id: String = "evt_" + UUID().uuidString.prefix(12).lowercased(),
                     company: String = "biz_test", extra: [String: Any] = [:]) -> [String: Any] {
        var data: [String: Any] = ["membership_id": membership, "company_id": company, "user_id": "user_" + membership]
        data.merge(extra) { $1 }
        return ["id": id, "type": type, "created_at": Int(Date().timeIntervalSince1970), "data": data]
    }
}
