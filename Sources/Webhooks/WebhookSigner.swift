import Crypto
import Foundation

/// A scheme and secret made ready once for signing many deliveries: a replay signs thousands with one
/// secret, and setting up the HMAC key (padding it, hashing both pads) cost as much as signing a small
/// body. The keyed state is copied per delivery. `WebhookScheme.sign` signs through it, so both agree.
public struct WebhookSigner: @unchecked Sendable {  // HMAC's hashers are copy-on-write and only read here
    public let scheme: WebhookScheme
    private let keyed: HMAC<SHA256>
    /// service.provider.headers, without those that would replace a signature header.
    private let extra: [WebhookHeader]

    public init(scheme: WebhookScheme, secret: String, extra: [WebhookHeader] = []) {
        self.scheme = scheme
        let key = scheme == .standard ? StandardWebhooks.key(from: secret) : Array(secret.utf8)
        keyed = HMAC<SHA256>(key: SymmetricKey(data: key))
        let fixed = Set(scheme.signatureHeaderNames)
        self.extra = extra.filter { !fixed.contains($0.name.lowercased()) }
    }

    /// The headers that carry a signature of `body` at `timestamp`; see `WebhookScheme.sign`.
    public func headers(body: [UInt8], timestamp: Date = Date(), id: String? = nil, topic: String? = nil) -> [WebhookHeader] {
        var headers = signatureHeaders(body: body, timestamp: timestamp, id: id, topic: topic)
        for header in extra {
            headers.removeAll { $0.name.lowercased() == header.name.lowercased() }
            headers.append(header)
        }
        return headers
    }

    private func signatureHeaders(body: [UInt8], timestamp: Date, id: String?, topic: String?) -> [WebhookHeader] {
        let ts = WebhookScheme.unixSeconds(timestamp)
        switch scheme {
        case .whop:
            return [("x-whop-signature", Hex.encode(mac(body))), ("x-whop-timestamp", String(ts))]
        case .standard:
            let messageID = id ?? "msg_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            // Signed content: "id.timestamp.body".
            let mac = mac(Array("\(messageID).\(ts).".utf8), body)
            return [("webhook-id", messageID), ("webhook-timestamp", String(ts)),
                    ("webhook-signature", "v1," + Data(mac).base64EncodedString())]
        case .stripe:
            return [("Stripe-Signature", "t=\(ts),v1=\(Hex.encode(mac(Array("\(ts).".utf8), body)))")]
        case .shopify:
            return ShopifySignature.headers(mac: Data(mac(body)).base64EncodedString(), timestamp: timestamp,
                                            id: id ?? UUID().uuidString.lowercased(), topic: topic ?? "unknown")
        }
    }

    /// HMAC-SHA256 of the parts, one after the other, with the prepared key.
    private func mac(_ parts: [UInt8]...) -> [UInt8] {
        var hmac = keyed
        for part in parts { hmac.update(data: part) }
        return Array(hmac.finalize())
    }
}
