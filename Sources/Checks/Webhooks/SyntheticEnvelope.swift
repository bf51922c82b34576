import Foundation
import Webhooks

/// The body each provider wraps an event in: provider knowledge, so it lives here, while the
/// service-specific fields (`data`) come from opsctl.yaml's `service.provider.synthetic_event`.
enum SyntheticEnvelope {
    /// Stripe stamps every event with the API version of the account; a recent one.
    static let stripeAPIVersion = "2024-06-20"

    /// The type a scheme's synthetic event has when neither the step nor the profile names one.
    static func defaultType(_ scheme: WebhookScheme) -> String {
        switch scheme {
        case .whop: return "opsctl.test"
        case .stripe: return "invoice.payment_succeeded"
        case .standard: return "opsctl.test"
        case .shopify: return "orders/paid"
        }
    }

    /// A fresh synthetic event id (Stripe's carry its `evt_` prefix); every one contains `opsctl_synthetic_`.
    static func newID(_ scheme: WebhookScheme) -> String {
        let id = WebhookDelivery.syntheticPrefix + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        return scheme == .stripe ? "evt_" + id : id
    }

    /// The body a real provider would send for an event `id` of `type` carrying `data`.
    static func body(_ scheme: WebhookScheme, id: String, type: String, data: [String: JSONValue], now: Date) -> JSONValue {
        switch scheme {
        case .whop:
            // Whop: `{id, type, created_at, data}` with the membership/payment fields in data.
            return ["id": .string(id), "type": .string(type), "created_at": .string(iso8601(now)), "data": .object(data)]
        case .standard:
            // Standard Webhooks: `{type, timestamp, data}`; the message id travels in the webhook-id header.
            return ["type": .string(type), "timestamp": .string(iso8601(now)), "data": .object(data)]
        case .stripe:
            // Stripe: an Event object; `data.object` is the resource the event is about (an invoice for invoice.*).
            var object = data
            let resource = type.split(separator: ".").dropLast().joined(separator: ".")
            let objectName = resource.isEmpty ? type : resource
            if object["object"] == nil { object["object"] = .string(objectName) }
            if object["id"] == nil { object["id"] = .string(WebhookDelivery.syntheticPrefix + objectName.replacingOccurrences(of: ".", with: "_")) }
            return ["id": .string(id), "object": "event", "api_version": .string(stripeAPIVersion),
                    "created": .int(Int(now.timeIntervalSince1970)), "livemode": false, "pending_webhooks": 1,
                    "request": ["id": .null, "idempotency_key": .null], "type": .string(type),
                    "data": ["object": .object(object)]]
        case .shopify:
            // Shopify: the body is the resource itself (an order for orders/paid); the topic is a header.
            var resource = data
            if resource["id"] == nil { resource["id"] = .int(Int.random(in: 1_000_000_000_000...9_999_999_999_999)) }
            return .object(resource)
        }
    }

    static func iso8601(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}
