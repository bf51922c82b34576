import Foundation
import Testing
@testable import Webhooks

/// A replay prepares one WebhookSigner and signs every event with it: each signature must be the one a
/// fresh signing of that body gives (the keyed HMAC state is copied, never carried from one body to the
/// next), and verify must accept it.
@Suite struct WebhookSignerTests {
    static let at = Date(timeIntervalSince1970: 1_764_000_000)
    static let secrets: [WebhookScheme: String] = [.whop: "whop_secret_0123", .standard: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                                   .stripe: "whsec_stripe_secret", .shopify: "shpss_secret"]

    static let signatureHeader: [WebhookScheme: String] = [.whop: "x-whop-signature", .standard: "webhook-signature",
                                                           .stripe: "stripe-signature", .shopify: "x-shopify-hmac-sha256"]

    @Test(arguments: WebhookScheme.allCases)
    func everyBodyGetsItsOwnSignature(_ scheme: WebhookScheme) throws {
        let secret = Self.secrets[scheme]!
        let signer = WebhookSigner(scheme: scheme, secret: secret)
        // Bodies of one, several and many SHA-256 blocks, and an empty one, in a row on one signer.
        let bodies = ["", #"{"id":"evt_1"}"#, String(repeating: "x", count: 200), String(repeating: "é", count: 3000), #"{"id":"evt_1"}"#]
        var signatures: [String] = []
        for (i, body) in bodies.enumerated() {
            let bytes = Array(body.utf8)
            let headers = signer.headers(body: bytes, timestamp: Self.at, id: "msg_\(i)", topic: "orders/paid")
            let fresh = scheme.sign(body: Data(body.utf8), secret: secret, timestamp: Self.at, id: "msg_\(i)", topic: "orders/paid")
            #expect(headers.map(\.name) == fresh.map(\.name), "\(scheme) body \(i)")
            #expect(headers.map(\.value) == fresh.map(\.value), "\(scheme) body \(i)")
            try scheme.verify(headers: headers, body: bytes, secret: secret, now: Self.at)
            signatures.append(try #require(headers.first { $0.name.lowercased() == Self.signatureHeader[scheme] }).value)
        }
        // The same body signed again after others gives what it gave the first time (Standard Webhooks
        // signs the message id too, and that differs).
        #expect((signatures[4] == signatures[1]) == (scheme != .standard), "\(scheme): \(signatures)")
        #expect(Set(signatures.prefix(4)).count == 4, "\(scheme): \(signatures)")
    }

    @Test func extraHeadersReplaceSameNamedOnesButNeverTheSignature() throws {
        let extra: [WebhookHeader] = [("X-Shopify-Shop-Domain", "acme.myshopify.com"), ("X-Shopify-Hmac-Sha256", "forged"), ("X-Other", "1")]
        let signer = WebhookSigner(scheme: .shopify, secret: "s", extra: extra)
        let headers = signer.headers(body: Array("{}".utf8), timestamp: Self.at, id: "1", topic: "orders/paid")
        let fresh = WebhookScheme.shopify.sign(body: Data("{}".utf8), secret: "s", timestamp: Self.at, id: "1", topic: "orders/paid", extra: extra)
        #expect(headers.map(\.name) == fresh.map(\.name))
        #expect(headers.map(\.value) == fresh.map(\.value))
        #expect(headers.filter { $0.name == "X-Shopify-Shop-Domain" }.map(\.value) == ["acme.myshopify.com"])
        #expect(headers.first { $0.name == "X-Shopify-Hmac-Sha256" }?.value != "forged")
        #expect(headers.last?.name == "X-Other")
        try WebhookScheme.shopify.verify(headers: headers, body: Data("{}".utf8), secret: "s")
    }

    /// The signer's HMAC is RFC 2104's: the same as swift-crypto's HMAC<SHA256> for keys shorter than,
    /// as long as and longer than a SHA-256 block, and for messages in one or several parts.
    @Test(arguments: [0, 1, 20, 63, 64, 65, 200])
    func macIsHMACSHA256(keyLength: Int) {
        let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let signer = WebhookSigner(scheme: .whop, secret: String(decoding: key.map { $0 & 0x7f }, as: UTF8.self))
        let asciiKey = key.map { $0 & 0x7f }
        for length in [0, 1, 55, 56, 64, 119, 1000] {
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13) }
            let expected = HMACSHA256.mac(key: asciiKey, message: message)  // swift-crypto's HMAC<SHA256>
            #expect(signer.mac(message) == expected, "key \(keyLength), message \(length)")
            #expect(signer.mac(Array(message.prefix(length / 3)), Array(message.dropFirst(length / 3))) == expected)
        }
    }

    @Test func hexIsLowercaseAndComplete() {
        #expect(Hex.encode([]) == "")
        #expect(Hex.encode([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
        #expect(Hex.decode(Hex.encode(Array(0...255))) == Array(0...255))
    }
}
