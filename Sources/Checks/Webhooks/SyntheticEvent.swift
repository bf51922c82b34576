import Foundation
import Webhooks

/// A signed webhook delivery built from a step's parameters and the environment's webhook settings.
public struct WebhookDelivery: Sendable {
    public static let syntheticPrefix = "opsctl_synthetic_"

    public var url: String
    public var body: [UInt8]
    public var headers: [WebhookHeader]
    public var eventID: String
    public var type: String
    public var scheme: WebhookScheme

    /// Whether `id` is one opsctl made up (`opsctl_synthetic_…`, Stripe-style `evt_opsctl_synthetic_…`):
    /// only those are ever deleted by webhooks.remove_synthetic.
    public static func isSynthetic(_ id: String) -> Bool {
        id.hasPrefix(syntheticPrefix) || id.hasPrefix("evt_" + syntheticPrefix)
    }

    /// `payload` (a mapping merged into the synthetic event's data) or `payload_file` (sent verbatim).
    /// The envelope is the scheme's; type and data default to the profile's `service.provider.synthetic_event`.
    public static func build(_ p: StepParameters, context: StepContext, now: Date = Date()) throws -> WebhookDelivery {
        let schemeName = try p.string("scheme", default: context.webhookScheme)
        guard let scheme = WebhookScheme(name: schemeName) else {
            throw StepError("unknown webhook scheme '\(schemeName)': use \(WebhookScheme.namesForMessages)")
        }
        guard let secretVariable = try p.optionalString("secret_env") ?? context.webhookSecretVariable else {
            throw StepError("no signing secret variable: set service.provider.secret_env in opsctl.yaml, or pass secret_env (--secret-env)")
        }
        guard let secret = context.environment[secretVariable], !secret.isEmpty else {
            throw StepError("\(secretVariable) is not set: the webhook signing secret is needed to sign the event",
                            details: ["secret_env": .string(secretVariable)])
        }
        let url = try context.resolve(url: try p.string("url", default: context.webhookPath))
        let shape = context.service.provider?.syntheticEvent
        let type = try p.nonEmptyString("type") ?? shape?.type ?? SyntheticEnvelope.defaultType(scheme)
        let body: [UInt8]
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
            // A Shopify body is the resource (an order id), not the event: the delivery id is separate.
            eventID = scheme == .shopify ? (given ?? SyntheticEnvelope.newID(scheme))
                : parsed["id"]?.string ?? given ?? SyntheticEnvelope.newID(scheme)
        } else {
            eventID = try p.string("event_id", default: SyntheticEnvelope.newID(scheme))
            var data = shape?.data ?? [:]
            for (k, v) in try p.map("payload") { data[k] = v }
            body = Array(SyntheticEnvelope.body(scheme, id: eventID, type: type, data: data, now: now).jsonText.utf8)
        }
        let headers = scheme.sign(body: body, secret: secret, timestamp: now, id: eventID, topic: type,
                                  extra: context.service.provider?.extraHeaders ?? [])
            + [("Content-Type", "application/json")]
        return WebhookDelivery(url: url, body: body, headers: headers, eventID: eventID, type: type, scheme: scheme)
    }

    static let signingParameters: [ParameterSpec] = [
        .init("type", .string, "event type (Shopify: the topic); default service.provider.synthetic_event.type, else the scheme's (whop, standard: opsctl.test; stripe: invoice.payment_succeeded; shopify: orders/paid)"),
        .init("payload", .map, "fields merged into the synthetic event's data (Stripe: data.object; Shopify: the resource body), over service.provider.synthetic_event.data"),
        .init("payload_file", .string, "a JSON file sent verbatim instead of a synthetic event"),
        .init("event_id", .string, "event id (default opsctl_synthetic_<uuid>; Stripe evt_opsctl_synthetic_<uuid>)"),
        .init("scheme", .string, "whop, standard, stripe or shopify (default: the environment's webhook.scheme / service.provider.scheme)"),
        .init("secret_env", .string, "env var with the signing secret (default: the environment's webhook.secret_env)"),
        .init("url", .string, "intake URL or path (default: the environment's webhook.path)"),
    ]
}
