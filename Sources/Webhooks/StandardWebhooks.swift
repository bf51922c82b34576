import Foundation

/// Standard Webhooks (standardwebhooks.com): base64 HMAC of "id.timestamp.body" with the decoded secret.
enum StandardWebhooks {
    static func key(from secret: String) -> [UInt8] {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        if let data = Data(base64Encoded: encoded), !data.isEmpty { return Array(data) }
        return Array(secret.utf8)
    }

    static func signedContent(id: String, timestamp: Int, body: [UInt8]) -> [UInt8] {
        Array("\(id).\(timestamp).".utf8) + body
    }

    static func verify(_ headers: HeaderLookup, body: [UInt8], secret: String, now: Date,
                       tolerance: TimeInterval) throws(WebhookVerificationError) {
        let id = try headers.require("webhook-id")
        let timestamp = try headers.timestamp("webhook-timestamp")
        let header = try headers.require("webhook-signature")
        try WebhookScheme.checkFreshness(timestamp, now: now, tolerance: tolerance)
        let key = key(from: secret)
        let message = signedContent(id: id, timestamp: timestamp, body: body)
        // Space-separated list of `version,signature`; any v1 match is enough (key rotation).
        for entry in header.split(separator: " ") {
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1", let candidate = Data(base64Encoded: String(parts[1])) else { continue }
            if HMACSHA256.isValid(Array(candidate), key: key, message: message) { return }
        }
        throw .badSignature
    }
}
