import Checks
import Foundation
import Support
import Testing
import TestSupport

/// Tests/Fixtures/services/provider_fixture.py as a running process: webhook handlers that verify each
/// scheme with code independent of opsctl's (the official stripe and standardwebhooks packages, python
/// hmac), and a provider event-list API in four pagination styles.
final class ProviderFixture {
    static let secrets = [
        "STRIPE_SECRET": "whsec_provider_fixture_0123456789",
        "STANDARD_SECRET": "whsec_" + Data("standard-webhooks-fixture-key-0123456789".utf8).base64EncodedString(),
        "SHOPIFY_SECRET": "shpss_provider_fixture_0123456789",
        "WHOP_SECRET": "whop_provider_fixture_0123456789",
        "PROVIDER_API_KEY": "sk_test_provider_fixture_key_4f9a",
    ]

    let directory = TemporaryDirectory()
    let fixture: PythonFixture
    var port: Int { fixture.port }
    var eventsFile: String { directory.path + "/events.jsonl" }
    var deliveriesFile: String { directory.path + "/deliveries.jsonl" }
    var requestsFile: String { directory.path + "/requests.jsonl" }

    init(events: [String] = []) throws {
        _ = try directory.write("events.jsonl", events.joined(separator: "\n") + "\n")
        var env = Self.secrets
        env["EVENTS_FILE"] = directory.path + "/events.jsonl"
        env["DELIVERIES_FILE"] = directory.path + "/deliveries.jsonl"
        env["REQUESTS_FILE"] = directory.path + "/requests.jsonl"
        fixture = try PythonFixture(script: "provider_fixture.py", environment: env)
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The JSON lines of one of the fixture's record files.
    func records(_ file: String) -> [JSONValue] {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { JSONValue.parse(Data($0.utf8)) }
    }

    /// Runs opsctl in the fixture's directory with `config` as opsctl.yaml and the fixture's secrets set.
    func opsctl(_ arguments: [String], config: String, env: [String: String] = [:]) throws -> ProcessOutput {
        _ = try directory.write("opsctl.yaml", config)
        return try Opsctl.run(arguments, env: Self.secrets.merging(env) { $1 }, directory: directory.path)
    }
}
