import Foundation

/// Shopify: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body with the app's secret
/// (UTF-8 bytes); the topic (`orders/paid`) travels in `X-Shopify-Topic`. Shopify signs no timestamp,
/// and its retries keep the original `X-Shopify-Triggered-At`, so freshness is not checked: a receiver
/// dedupes on `X-Shopify-Webhook-Id` instead.
enum ShopifySignature {
    /// The Admin API version Shopify stamps on deliveries when opsctl.yaml names none.
    static let defaultAPIVersion = "2025-07"
    /// The shop a synthetic delivery claims to come from when opsctl.yaml names none.
    static let defaultShopDomain = "opsctl-synthetic.myshopify.com"

    static func headers(mac: String, timestamp: Date, id: String, topic: String) -> [WebhookHeader] {
        let triggered = ISO8601DateFormatter.string(from: timestamp, timeZone: TimeZone(identifier: "UTC")!,
                                                    formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        return [("X-Shopify-Hmac-Sha256", mac), ("X-Shopify-Topic", topic),
                ("X-Shopify-Webhook-Id", id), ("X-Shopify-Shop-Domain", defaultShopDomain),
                ("X-Shopify-API-Version", defaultAPIVersion), ("X-Shopify-Triggered-At", triggered)]
    }

    static func verify(_ headers: HeaderLookup, body: [UInt8], secret: String) throws(WebhookVerificationError) {
        let header = try headers.require("x-shopify-hmac-sha256")
        guard let candidate = Data(base64Encoded: header) else {
            throw .malformedHeader("x-shopify-hmac-sha256", reason: "not base64")
        }
        guard HMACSHA256.isValid(Array(candidate), key: Array(secret.utf8), message: body) else { throw .badSignature }
    }
}
