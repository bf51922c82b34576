import Foundation
import Support
import Webhooks

/// Settings read from the environment at start; secrets are registered with the masker as they are read.
struct Configuration: Sendable {
    var databaseURL: String
    var webhookSecret: String
    var scheme: WebhookScheme
    var port: Int
    var tolerance: TimeInterval
    var poolSize: Int
    /// Batches of webhook events processed at once (each one connection); see EventBatcher.
    var eventLanes: Int
    var providerEventsFile: String?
    var whopAPIURL: String?
    var faults: Faults

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static func load(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> Configuration {
        guard let databaseURL = env["DATABASE_URL"], !databaseURL.isEmpty else {
            throw Invalid(description: "DATABASE_URL is not set (postgresql://user@host/db)")
        }
        guard let secret = env["WHOP_WEBHOOK_SECRET"], !secret.isEmpty else {
            throw Invalid(description: "WHOP_WEBHOOK_SECRET is not set")
        }
        SecretMasker.shared.register(secret)
        let schemeName = env["WEBHOOK_SCHEME"].flatMap { $0.isEmpty ? nil : $0.lowercased() } ?? "whop"
        guard let scheme = WebhookScheme(rawValue: schemeName) else {
            throw Invalid(description: "WEBHOOK_SCHEME must be whop, standard or stripe (got \(schemeName))")
        }
        func integer(_ name: String, _ fallback: Int, _ range: ClosedRange<Int>) throws -> Int {
            guard let raw = env[name], !raw.isEmpty else { return fallback }
            guard let value = Int(raw), range.contains(value) else {
                throw Invalid(description: "\(name) must be an integer in \(range.lowerBound)...\(range.upperBound) (got \(raw))")
            }
            return value
        }
        var faults = Faults()
        if let spec = env["FAULTS"], !spec.isEmpty {
            do { try faults.apply(spec: spec) } catch { throw Invalid(description: "FAULTS: \(error)") }
        }
        return Configuration(
            databaseURL: databaseURL, webhookSecret: secret, scheme: scheme,
            port: try integer("PORT", 8080, 0...65535),
            tolerance: TimeInterval(try integer("WEBHOOK_TOLERANCE_SECONDS", 300, 1...86_400)),
            poolSize: try integer("DB_POOL_SIZE", 8, 1...100),
            eventLanes: try integer("EVENT_LANES", 2, 1...100),
            providerEventsFile: env["PROVIDER_EVENTS_FILE"].flatMap { $0.isEmpty ? nil : $0 },
            whopAPIURL: env["WHOP_API_URL"].flatMap { $0.isEmpty ? nil : $0 },
            faults: faults)
    }
}
