import Foundation

/// Stripe: `t=<ts>,v1=<hex HMAC of "t.body">` (several v1 entries allowed during secret rotation).
enum StripeSignature {
    static func verify(_ headers: HeaderLookup, body: [UInt8], secret: String, now: Date,
                       tolerance: TimeInterval) throws(WebhookVerificationError) {
        let header = try headers.require("stripe-signature")
        var timestamp: Int?
        var candidates: [[UInt8]] = []
        for item in header.split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let key = pair[0].trimmingCharacters(in: .whitespaces)
            if key == "t" { timestamp = Int(pair[1].trimmingCharacters(in: .whitespaces)) }
            if key == "v1", let mac = Hex.decode(pair[1].trimmingCharacters(in: .whitespaces)) { candidates.append(mac) }
        }
        guard let timestamp else { throw .malformedHeader("stripe-signature", reason: "no t=<timestamp>") }
        guard !candidates.isEmpty else { throw .malformedHeader("stripe-signature", reason: "no v1 signature") }
        let message = Array("\(timestamp).".utf8) + body
        guard candidates.contains(where: { HMACSHA256.isValid($0, key: Array(secret.utf8), message: message) }) else {
            throw .badSignature
        }
        try WebhookScheme.checkFreshness(timestamp, now: now, tolerance: tolerance)
    }
}
