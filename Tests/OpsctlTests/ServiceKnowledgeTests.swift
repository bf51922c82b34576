import Foundation
import Testing

/// Issue 14: service knowledge (tables, columns, endpoints, event types of any service) lives in
/// profiles/ YAML and opsctl.yaml, never in the engine, the step kinds or the verbs. This reads every
/// Swift file of Sources/Checks, Sources/Runbooks and Sources/opsctl (comments included: a name in a
/// help text or an example teaches it as if it were the product's) and fails on any of them.
/// Provider *scheme* knowledge (how Stripe or Shopify sign) belongs in Sources/Webhooks, not read here.
@Suite("No service names in the engine")
struct ServiceKnowledgeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    /// Names of the shipped profiles' services (churn-saver, stripe-webhooks, whop-app, twentycrm-whop,
    /// shopify-membership): their tables, columns, endpoints, secrets and event types.
    static let serviceNames = [
        // churn-saver
        "whop_event_id", "recovery_cases", "recovery_actions", "webhook_logs", "api_request_logs",
        "circuit_breaker_metrics", "auth_logs", "creator_settings", "membership_id", "/api/health", "/api/webhooks/whop",
        "WHOP_WEBHOOK_SECRET", "WHOP_API_KEY", "NEXT_PUBLIC_WHOP_APP_ID",
        // Whop event types, both spellings
        "membership.went_invalid", "membership.went_valid", "membership_went_invalid", "membership_went_valid",
        "membership.activated", "membership.deactivated", "payment_succeeded", "payment_failed",
        // the other shipped profiles
        "stripe_events", "payment_recovery_attempts", "whop_events", "whop_webhook_log", "connected_account",
        "/api/monitoring/membership/health",
    ]

    /// Files still naming a reference-service default while another branch moves it into the profile's
    /// `service.provider.synthetic` and `service.provider.events_api` (issue 14, provider-shaped bodies and
    /// the provider's event-list API; that branch owns these files). Each entry: path, names allowed
    /// there. The lead removes them when that branch is merged; nothing else may be added here.
    static let pendingElsewhere: [String: Set<String>] = [
        "Sources/Checks/Webhooks/SyntheticEvent.swift": ["WHOP_WEBHOOK_SECRET", "payment_succeeded", "payment_failed",
                                                         "membership_went_valid", "membership_went_invalid", "membership_id"],
        "Sources/Checks/Webhooks/WebhookSend.swift": ["payment_succeeded"],
        "Sources/opsctl/Commands/Webhook.swift": ["payment_succeeded", "payment_failed", "membership_went_valid",
                                                 "membership_went_invalid", "membership_id"],
        "Sources/Checks/Reconcile/ProviderDiff.swift": ["WHOP_API_KEY"],
    ]

    static func swiftFiles() throws -> [String] {
        var out: [String] = []
        for dir in ["Sources/Checks", "Sources/Runbooks", "Sources/opsctl"] {
            let base = root.appendingPathComponent(dir)
            guard let walker = FileManager.default.enumerator(atPath: base.path) else { throw CocoaError(.fileNoSuchFile) }
            for case let file as String in walker where file.hasSuffix(".swift") { out.append("\(dir)/\(file)") }
        }
        return out.sorted()
    }

    @Test func theEngineNamesNoServiceTableColumnEndpointOrEventType() throws {
        let files = try Self.swiftFiles()
        #expect(files.count > 100, "read \(files.count) files")
        var found: [String] = []
        for path in files {
            let text = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
            let allowed = Self.pendingElsewhere[path] ?? []
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                for name in Self.serviceNames where !allowed.contains(name) && line.contains(name) {
                    found.append("\(path):\(number + 1): \(name)")
                }
            }
        }
        #expect(found.isEmpty, "service knowledge in Swift (move it to profiles/NAME/ YAML or opsctl.yaml):\n\(found.joined(separator: "\n"))")
    }

    /// The check itself sees a name where one is: a profile's runbook names them (it is allowed to).
    @Test func theCheckFindsNamesWhereTheyAre() throws {
        let runbooks = Self.root.appendingPathComponent("profiles/churn-saver/runbooks")
        let invariants = try String(contentsOf: runbooks.appendingPathComponent("service-invariants.yaml"), encoding: .utf8)
        let payment = try String(contentsOf: runbooks.appendingPathComponent("explain-payment.yaml"), encoding: .utf8)
        #expect(invariants.contains("recovery_cases") && payment.contains("whop_event_id"))
    }

    /// The generic shipped runbooks name no service either: they include the profile's fragments.
    @Test func theGenericRunbooksNameNoService() throws {
        let dir = Self.root.appendingPathComponent("runbooks")
        var found: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where file.hasSuffix(".yaml") {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            for name in Self.serviceNames where text.contains(name) { found.append("runbooks/\(file): \(name)") }
        }
        #expect(found.isEmpty, "\(found.joined(separator: "\n"))")
    }
}
