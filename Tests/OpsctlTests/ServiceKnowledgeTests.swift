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

    static func swiftFiles() throws -> [String] {
        var out: [String] = []
        for dir in ["Sources/Checks", "Sources/Runbooks", "Sources/opsctl"] {
            let base = root.appendingPathComponent(dir)
            guard let walker = FileManager.default.enumerator(atPath: base.path) else { throw CocoaError(.fileNoSuchFile) }
            for case let file as String in walker where file.hasSuffix(".swift") { out.append("\(dir)/\(file)") }
        }
        return out.sorted()
    }

    /// A whole name, not part of a longer one: Stripe's `invoice.payment_succeeded` is the provider's
    /// event type (scheme knowledge), not Churn Saver's `payment_succeeded`.
    static func names(_ name: String, in line: String) -> Bool {
        let identifier = { (c: Character) in c.isLetter || c.isNumber || c == "_" }
        var searchStart = line.startIndex
        while let range = line.range(of: name, range: searchStart..<line.endIndex) {
            let before = range.lowerBound > line.startIndex ? line[line.index(before: range.lowerBound)] : " "
            let after = range.upperBound < line.endIndex ? line[range.upperBound] : " "
            if !identifier(before) && before != "." && !identifier(after) { return true }
            searchStart = line.index(after: range.lowerBound)
        }
        return false
    }

    @Test func theEngineNamesNoServiceTableColumnEndpointOrEventType() throws {
        let files = try Self.swiftFiles()
        #expect(files.count > 100, "read \(files.count) files")
        var found: [String] = []
        for path in files {
            let text = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                for name in Self.serviceNames where Self.names(name, in: String(line)) {
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
