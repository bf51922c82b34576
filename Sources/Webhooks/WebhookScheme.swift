import Foundation

/// One HTTP header of a signed delivery.
public typealias WebhookHeader = (name: String, value: String)

/// The signing schemes a webhook endpoint can use: Whop's hex HMAC, Standard Webhooks, Stripe, Shopify.
public enum WebhookScheme: String, Sendable, CaseIterable, CustomStringConvertible {
    /// `x-whop-signature`: lowercase hex HMAC-SHA256 of the raw body (optionally `sha256=` / `v1,`),
    /// `x-whop-timestamp`: unix seconds. The secret is used as UTF-8 bytes.
    case whop
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC of "id.timestamp.body">`;
    /// the secret is `whsec_<base64 key>` (a secret that is not base64 is used as UTF-8 bytes).
    case standard
    /// `Stripe-Signature: t=<ts>,v1=<hex HMAC of "t.body">`; the whole secret (`whsec_...`) is the key.
    case stripe
    /// `X-Shopify-Hmac-Sha256: <base64 HMAC of the body>`, `X-Shopify-Topic: orders/paid`, plus
    /// `X-Shopify-Webhook-Id`, `-Shop-Domain`, `-API-Version`, `-Triggered-At`; the secret is used as UTF-8 bytes.
    case shopify

    /// The scheme names as opsctl.yaml and flags spell them, for messages (`whop, standard, stripe or shopify`).
    public static var namesForMessages: String {
        let names = allCases.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }

    /// A scheme by name; `standard-webhooks` is accepted for `standard`.
    public init?(name: String) {
        self.init(rawValue: name == "standard-webhooks" ? "standard" : name)
    }

    public var description: String { rawValue }

    /// Default tolerance between a delivery's timestamp and the receiver's clock.
    public static let defaultTolerance: TimeInterval = 300

    /// The headers that carry a signature of `body` made with `secret` at `timestamp`.
    /// `id` is the message id (Standard Webhooks signs it, Shopify sends it as X-Shopify-Webhook-Id; one is
    /// generated when nil). `topic` is the event type, which Shopify sends in a header (`orders/paid`).
    /// `extra` headers are added after the scheme's own and replace a same-named one that is not the
    /// signature itself (e.g. `X-Shopify-Shop-Domain: acme.myshopify.com`).
    public func sign(body: some DataProtocol, secret: String, timestamp: Date = Date(), id: String? = nil,
                     topic: String? = nil, extra: [WebhookHeader] = []) -> [WebhookHeader] {
        WebhookSigner(scheme: self, secret: secret, extra: extra).headers(body: Array(body), timestamp: timestamp, id: id, topic: topic)
    }

    /// Headers whose value is computed from the body and secret: `extra` never replaces them.
    var signatureHeaderNames: [String] {
        switch self {
        case .whop: return ["x-whop-signature", "x-whop-timestamp"]
        case .standard: return ["webhook-id", "webhook-timestamp", "webhook-signature"]
        case .stripe: return ["stripe-signature"]
        case .shopify: return ["x-shopify-hmac-sha256"]
        }
    }

    /// Checks a delivery's headers (names are case-insensitive) against `body`, `secret` and the clock.
    public func verify(headers: [WebhookHeader], body: some DataProtocol, secret: String, now: Date = Date(),
                       tolerance: TimeInterval = WebhookScheme.defaultTolerance) throws(WebhookVerificationError) {
        let lookup = HeaderLookup(headers)
        let bytes = Array(body)
        switch self {
        case .whop: try WhopSignature.verify(lookup, body: bytes, secret: secret, now: now, tolerance: tolerance)
        case .standard: try StandardWebhooks.verify(lookup, body: bytes, secret: secret, now: now, tolerance: tolerance)
        case .stripe: try StripeSignature.verify(lookup, body: bytes, secret: secret, now: now, tolerance: tolerance)
        case .shopify: try ShopifySignature.verify(lookup, body: bytes, secret: secret)
        }
    }

    /// Same as `verify(headers:...)` for headers held in a dictionary.
    public func verify(headers: [String: String], body: some DataProtocol, secret: String, now: Date = Date(),
                       tolerance: TimeInterval = WebhookScheme.defaultTolerance) throws(WebhookVerificationError) {
        try verify(headers: headers.map { (name: $0.key, value: $0.value) }, body: body, secret: secret, now: now,
                   tolerance: tolerance)
    }

    /// Names of the headers this scheme reads (lowercase), e.g. for forwarding or masking.
    public var headerNames: [String] {
        switch self {
        case .whop: return ["x-whop-signature", "x-whop-timestamp"]
        case .standard: return ["webhook-id", "webhook-timestamp", "webhook-signature"]
        case .stripe: return ["stripe-signature"]
        case .shopify: return ["x-shopify-hmac-sha256", "x-shopify-topic", "x-shopify-webhook-id", "x-shopify-shop-domain",
                               "x-shopify-api-version", "x-shopify-triggered-at"]
        }
    }

    static func unixSeconds(_ date: Date) -> Int { Int(date.timeIntervalSince1970.rounded(.down)) }

    /// Fails with `.staleTimestamp` when `timestamp` is more than `tolerance` seconds from `now` either way.
    static func checkFreshness(_ timestamp: Int, now: Date, tolerance: TimeInterval) throws(WebhookVerificationError) {
        let current = unixSeconds(now)
        if Double(abs(current - timestamp)) > tolerance {
            throw .staleTimestamp(timestamp: timestamp, now: current, tolerance: Int(tolerance))
        }
    }
}

/// Case-insensitive header access; repeated headers keep their first value.
struct HeaderLookup {
    private var values: [String: String] = [:]

    init(_ headers: [WebhookHeader]) {
        for header in headers where values[header.name.lowercased()] == nil {
            values[header.name.lowercased()] = header.value
        }
    }

    func require(_ name: String) throws(WebhookVerificationError) -> String {
        guard let value = values[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
            throw .missingHeader(name)
        }
        return value
    }

    func timestamp(_ name: String) throws(WebhookVerificationError) -> Int {
        let raw = try require(name)
        guard let value = Int(raw) else { throw .malformedHeader(name, reason: "timestamp is not unix seconds") }
        return value
    }
}
