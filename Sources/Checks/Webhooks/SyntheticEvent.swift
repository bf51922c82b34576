import Foundation
import Webhooks

/// A signed webhook delivery built from a step's parameters and the environment's webhook settings.
public struct WebhookDelivery: Sendable {
    public static let syntheticPrefix = "opsctl_synthetic_"

    public var url: String
    public var body: [UInt8]
    public var headers: [WebhookHeader]
    public var eventID: String
    public var scheme: WebhookScheme

    /// `payload` (a mapping merged into the synthetic event) or `payload_file` (sent verbatim).
    public static func build(_ p: StepParameters, context: StepContext, now: Date = Date()) throws -> WebhookDelivery {
        let schemeName = try p.string("scheme", default: context.webhookScheme)
        guard let scheme = WebhookScheme(rawValue: schemeName) else {
            throw StepError("unknown webhook scheme '\(schemeName)': use whop, standard or stripe")
        }
        let secretVariable = try p.optionalString("secret_env") ?? context.webhookSecretVariable ?? "WHOP_WEBHOOK_SECRET"
        guard let secret = context.environment[secretVariable], !secret.isEmpty else {
            throw StepError("\(secretVariable) is not set: the webhook signing secret is needed to sign the event",
                            details: ["secret_env": .string(secretVariable)])
        }
        let url = try context.resolve(url: try p.string("url", default: context.webhookPath))
        var body: [UInt8]
        var eventID: String
        if let file = try p.optionalString("payload_file") {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw StepError("cannot read payload_file \(file): check the path")
            }
            guard let parsed = JSONValue.parse(data), case .object = parsed else {
                throw StepError("\(file) is not a JSON object: a webhook payload is one JSON object")
            }
            body = [UInt8](data)
            let given = try p.optionalString("event_id")
            eventID = parsed["id"]?.string ?? given ?? syntheticPrefix + UUID().uuidString.lowercased()
        } else {
            eventID = try p.string("event_id", default: syntheticPrefix + UUID().uuidString.lowercased())
            let type = try p.string("type", default: "payment_succeeded")
            let membership = syntheticPrefix + "membership"
            var data: [String: JSONValue] = ["membership_id": .string(membership), "company_id": .string(syntheticPrefix + "company"),
                                             "user_id": .string(syntheticPrefix + "user"), "amount_cents": 0]
            for (k, v) in try p.map("payload") { data[k] = v }
            let event: JSONValue = ["id": .string(eventID), "type": .string(type),
                                    "created_at": .string(ISO8601DateFormatter().string(from: now)), "data": .object(data)]
            body = Array(event.jsonText.utf8)
        }
        let headers = scheme.sign(body: body, secret: secret, timestamp: now, id: eventID)
            + [("Content-Type", "application/json")]
        return WebhookDelivery(url: url, body: body, headers: headers, eventID: eventID, scheme: scheme)
    }

    static let signingParameters: [ParameterSpec] = [
        .init("type", .string, default: "payment_succeeded", "event type: payment_failed, payment_succeeded, membership_went_valid, membership_went_invalid"),
        .init("payload", .map, "fields merged into the synthetic event's data (membership_id, company_id, amount_cents, ...)"),
        .init("payload_file", .string, "a JSON file sent verbatim instead of a synthetic event"),
        .init("event_id", .string, "event id (default opsctl_synthetic_<uuid>)"),
        .init("scheme", .string, "whop, standard or stripe (default: the environment's webhook.scheme)"),
        .init("secret_env", .string, "env var with the signing secret (default: the environment's webhook.secret_env)"),
        .init("url", .string, "intake URL or path (default: the environment's webhook.path)"),
    ]
}
