import Foundation
import Testing
@testable import Webhooks

/// Published and independently computed signatures: signing reproduces them and verification accepts them.
@Suite struct KnownVectorTests {
    static let body = Data(#"{"id":"evt_1","type":"payment_failed"}"#.utf8)
    static let at = Date(timeIntervalSince1970: 1_614_265_330)

    struct Vector: Sendable, CustomStringConvertible {
        var scheme: WebhookScheme
        var secret: String
        var body: String
        var id: String?
        var headers: [String: String]
        var description: String { scheme.rawValue }
    }

    static let vectors: [Vector] = [
        // The Standard Webhooks specification's own example.
        Vector(scheme: .standard, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", body: #"{"test": 2432232314}"#,
               id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
               headers: ["webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
                         "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="]),
        // Computed with Python's hmac module.
        Vector(scheme: .whop, secret: "test_whop_secret_0123456789", body: #"{"id":"evt_1","type":"payment_failed"}"#,
               id: nil,
               headers: ["x-whop-signature": "c179647b1c45beb33157f37336451378a5167db8be4023e71d75e905b23546df",
                         "x-whop-timestamp": "1614265330"]),
        Vector(scheme: .stripe, secret: "whsec_test_secret", body: #"{"id":"evt_1","type":"payment_failed"}"#, id: nil,
               headers: ["Stripe-Signature": "t=1614265330,v1=41d11c581bc22157b422ae3ce6f1faf234bf83547038a245970b5995aaef62f9"]),
    ]

    @Test(arguments: vectors)
    func signingReproducesTheVector(_ v: Vector) {
        let headers = v.scheme.sign(body: Data(v.body.utf8), secret: v.secret, timestamp: Self.at, id: v.id)
        #expect(Dictionary(uniqueKeysWithValues: headers.map { ($0.name, $0.value) }) == v.headers)
    }

    @Test(arguments: vectors)
    func verificationAcceptsTheVector(_ v: Vector) throws {
        try v.scheme.verify(headers: v.headers, body: Data(v.body.utf8), secret: v.secret, now: Self.at.addingTimeInterval(299))
    }

    @Test(arguments: ["sha256=", "v1,", "SHA256=", ""])
    func whopSignatureAcceptsItsPrefixes(_ prefix: String) throws {
        let hex = "c179647b1c45beb33157f37336451378a5167db8be4023e71d75e905b23546df"
        for value in [prefix + hex, prefix + hex.uppercased()] {
            try WebhookScheme.whop.verify(headers: ["X-Whop-Signature": value, "X-Whop-Timestamp": "1614265330"],
                                          body: Self.body, secret: "test_whop_secret_0123456789", now: Self.at)
        }
    }

    @Test func standardAcceptsAnyMatchingSignatureInTheList() throws {
        let headers = ["webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
                       "webhook-signature": "v1,bm90IGl0 v1a,xyz v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="]
        try WebhookScheme.standard.verify(headers: headers, body: Data(#"{"test": 2432232314}"#.utf8),
                                          secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", now: Self.at)
    }
}
