import Foundation

/// Whop: hex HMAC-SHA256 of the raw body; the timestamp header is checked for freshness only.
enum WhopSignature {
    static let prefixes = ["sha256=", "v1,", "v1="]

    static func verify(_ headers: HeaderLookup, body: [UInt8], secret: String, now: Date,
                       tolerance: TimeInterval) throws(WebhookVerificationError) {
        var signature = Substring(try headers.require("x-whop-signature"))
        let timestamp = try headers.timestamp("x-whop-timestamp")
        for prefix in prefixes where signature.lowercased().hasPrefix(prefix) {
            signature = signature.dropFirst(prefix.count)
            break
        }
        guard let candidate = Hex.decode(signature),
              HMACSHA256.isValid(candidate, key: Array(secret.utf8), message: body) else { throw .badSignature }
        try WebhookScheme.checkFreshness(timestamp, now: now, tolerance: tolerance)
    }
}
