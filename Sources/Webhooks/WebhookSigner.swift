import Crypto
import Foundation

/// A scheme and secret made ready once for signing many deliveries: a replay signs thousands with one
/// secret, and setting up the HMAC key (padding it, hashing both pads) cost as much as signing a small
/// body. The keyed state is copied per delivery. `WebhookScheme.sign` signs through it, so both agree.
public struct WebhookSigner: @unchecked Sendable {  // the hashers are copy-on-write and only read here
    public let scheme: WebhookScheme
    /// HMAC (RFC 2104) over SHA-256, its two keyed hashers prepared once: SHA-256 already fed the
    /// key XOR ipad (inner) and the key XOR opad (outer). swift-crypto's HMAC type hashes through
    /// its generic DataProtocol path, whose runtime generic lookups cost more than a small body's blocks.
    private let inner: SHA256
    private let outer: SHA256
    /// service.provider.headers, without those that would replace a signature header.
    private let extra: [WebhookHeader]

    public init(scheme: WebhookScheme, secret: String, extra: [WebhookHeader] = []) {
        self.scheme = scheme
        let key = scheme == .standard ? StandardWebhooks.key(from: secret) : Array(secret.utf8)
        (inner, outer) = Self.keyedHashers(key)
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
    func mac(_ parts: [UInt8]...) -> [UInt8] {
        var hash = inner
        for part in parts { part.withUnsafeBytes { hash.update(bufferPointer: $0) } }
        var result = outer
        hash.finalize().withUnsafeBytes { result.update(bufferPointer: $0) }
        return result.finalize().withUnsafeBytes { Array($0) }
    }

    /// SHA-256 fed the block-sized key (hashed when longer than a block, zero-padded) XOR 0x36, and XOR 0x5c.
    static func keyedHashers(_ key: [UInt8]) -> (inner: SHA256, outer: SHA256) {
        var block = key.count > SHA256.blockByteCount ? SHA256.hash(data: key).withUnsafeBytes { Array($0) } : key
        block += [UInt8](repeating: 0, count: SHA256.blockByteCount - block.count)
        var inner = SHA256(), outer = SHA256()
        block.map { $0 ^ 0x36 }.withUnsafeBytes { inner.update(bufferPointer: $0) }
        block.map { $0 ^ 0x5c }.withUnsafeBytes { outer.update(bufferPointer: $0) }
        return (inner, outer)
    }
}
