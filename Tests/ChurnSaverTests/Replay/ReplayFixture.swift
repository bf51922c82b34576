import Foundation
import Postgres
import Support
import TestSupport
import Webhooks

/// The reference service plus a project directory whose opsctl.yaml points at it, for driving
/// `opsctl replay` / `opsctl reconcile` as an operator would.
final class ReplayFixture: @unchecked Sendable {
    let service: RunningService
    let dir = TemporaryDirectory()
    var env: [String: String]

    init(label: String, scheme: WebhookScheme = .whop, serviceEnvironment: [String: String] = [:]) throws {
        // Standard Webhooks and Stripe secrets are whsec_ + base64 of the key bytes.
        let secret = scheme == .whop ? "whop_test_secret_0123456789abcdef"
            : "whsec_" + Data("replay-\(scheme.rawValue)-secret-0123456789".utf8).base64EncodedString()
        service = try RunningService(label: label, scheme: scheme, secret: secret, environment: serviceEnvironment)
        env = ["DATABASE_URL": service.databaseURL, "WHOP_WEBHOOK_SECRET": service.secret,
               "XDG_STATE_HOME": dir.path + "/state", "USER": "tester"]
        try config("opsctl.yaml", baseURL: service.baseURL)
    }

    deinit { service.stop() }

    @discardableResult
    func config(_ name: String, baseURL: String) throws -> String {
        try dir.write(name, """
            environments:
              local:
                base_url: \(baseURL)
                webhook: { scheme: \(service.scheme.rawValue), secret_env: WHOP_WEBHOOK_SECRET, path: /api/webhooks/whop }
            """)
    }

    func opsctl(_ args: [String], timeout: Double = 300) throws -> ProcessOutput {
        try Opsctl.run(args, env: env, directory: dir.path, timeout: timeout)
    }

    /// Starts opsctl without waiting (kill -9, concurrent workers).
    func spawn(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Opsctl.binary)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }.merging(["NO_COLOR": "1"]) { $1 }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// `n` payment_failed events the service stored but could not process (one membership each).
    func seedFailed(_ n: Int, prefix: String = "evt_seed_", type: String = "payment_failed") throws {
        try exec("""
            INSERT INTO events (whop_event_id, type, membership_id, payload, company_id, occurred_at, received_at, created_at, error)
            SELECT '\(prefix)' || i, '\(type)', 'mem_\(prefix)' || i,
                   jsonb_build_object('id', '\(prefix)' || i, 'type', '\(type)', 'created_at', extract(epoch FROM now())::int - 3600,
                                      'data', jsonb_build_object('membership_id', 'mem_\(prefix)' || i, 'company_id', 'biz_test',
                                                                 'user_id', 'user_' || i, 'failure_reason', 'card_declined')),
                   'biz_test', now() - interval '1 hour' + i * interval '1 ms', now() - interval '1 hour', now() - interval '1 hour',
                   'connection to upstream timed out'
              FROM generate_series(1, \(n)) AS i
            """)
    }

    func exec(_ sql: String) throws {
        let db = try PostgresConnection(dsn: service.databaseURL, applicationName: "replay-tests")
        defer { db.close() }
        _ = try db.execute(sql)
    }

    func count(_ sql: String) throws -> Int { try service.count(sql) }

    /// The JSON report's step results by id.
    static func results(_ output: ProcessOutput) -> [String: [String: Any]] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any],
              let results = object["results"] as? [[String: Any]] else { return [:] }
        return Dictionary(results.compactMap { r in (r["id"] as? String).map { ($0, r) } }, uniquingKeysWith: { $1 })
    }
}

/// A JSON field as text ("" when absent).
func text(_ value: Any?) -> String { value as? String ?? "" }

/// The message of step `id` in a JSON report's results.
func message(_ results: [String: [String: Any]], _ id: String) -> String { text(results[id]?["message"]) }
