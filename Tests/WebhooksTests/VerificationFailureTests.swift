import Foundation
import Testing
import Webhooks

/// Each scheme refuses tampering, wrong secrets, stale timestamps and missing headers with a typed reason.
@Suite struct VerificationFailureTests {
    static let body = Data(#"{"id":"evt_2","type":"payment_succeeded","data":{"membership_id":"mem_1"}}"#.utf8)
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let secrets: [WebhookScheme: String] = [
        .whop: "whop_secret_abcdefghijklmnop", .standard: "whsec_" + Data("0123456789abcdef0123456789abcdef".utf8).base64EncodedString(),
        .stripe: "whsec_stripe_secret_abcdefgh", .shopify: "shpss_shopify_secret_abcdefgh",
    ]
    /// Shopify signs no timestamp (its retries keep the original Triggered-At): no freshness to check.
    static let timestamped = WebhookScheme.allCases.filter { $0 != .shopify }

    func signed(_ scheme: WebhookScheme, at date: Date = now) -> [WebhookHeader] {
        scheme.sign(body: Self.body, secret: Self.secrets[scheme]!, timestamp: date, id: "msg_42")
    }

    func failure(_ scheme: WebhookScheme, headers: [WebhookHeader], body: Data = body, secret: String? = nil,
                 now: Date = now) -> WebhookVerificationError? {
        do {
            try scheme.verify(headers: headers, body: body, secret: secret ?? Self.secrets[scheme]!, now: now)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: WebhookScheme.allCases)
    func roundTrip(_ scheme: WebhookScheme) {
        #expect(failure(scheme, headers: signed(scheme)) == nil)
    }

    @Test(arguments: WebhookScheme.allCases)
    func tamperedBodyIsABadSignature(_ scheme: WebhookScheme) {
        var tampered = Self.body
        tampered[tampered.count - 3] = UInt8(ascii: "2")
        #expect(failure(scheme, headers: signed(scheme), body: tampered) == .badSignature)
    }

    @Test(arguments: WebhookScheme.allCases)
    func wrongSecretIsABadSignature(_ scheme: WebhookScheme) {
        let other = "whsec_" + Data("another-secret-another-secret!!".utf8).base64EncodedString()
        #expect(failure(scheme, headers: signed(scheme), secret: other) == .badSignature)
    }

    @Test(arguments: timestamped)
    func timestampsBeyondToleranceAreStale(_ scheme: WebhookScheme) {
        let old = Self.now.addingTimeInterval(-301)
        #expect(failure(scheme, headers: signed(scheme, at: old))
            == .staleTimestamp(timestamp: 1_800_000_000 - 301, now: 1_800_000_000, tolerance: 300))
        #expect(failure(scheme, headers: signed(scheme, at: Self.now.addingTimeInterval(-300))) == nil)
        #expect(failure(scheme, headers: signed(scheme, at: Self.now.addingTimeInterval(400)))?.code == "stale_timestamp")
    }

    @Test(arguments: WebhookScheme.allCases)
    func eachMissingHeaderIsNamed(_ scheme: WebhookScheme) {
        let headers = signed(scheme)
        // Shopify's other headers (topic, shop, version, time) describe the delivery; only the HMAC is required.
        for header in headers where scheme != .shopify || header.name == "X-Shopify-Hmac-Sha256" {
            let rest = headers.filter { $0.name != header.name }
            #expect(failure(scheme, headers: rest) == .missingHeader(header.name.lowercased()))
        }
    }

    @Test func malformedHeadersAreReported() {
        let whop = [("x-whop-signature", "abc"), ("x-whop-timestamp", "yesterday")] as [WebhookHeader]
        #expect(failure(.whop, headers: whop)?.code == "malformed_header")
        #expect(failure(.stripe, headers: [("Stripe-Signature", "v1=00")])?.code == "malformed_header")
        #expect(failure(.stripe, headers: [("Stripe-Signature", "t=1800000000")])?.code == "malformed_header")
        #expect(failure(.whop, headers: [("x-whop-signature", "zz"), ("x-whop-timestamp", "1800000000")]) == .badSignature)
    }

    @Test func descriptionsNeverContainTheSecretOrSignature() {
        let headers = signed(.whop, at: Self.now.addingTimeInterval(-1000))
        let error = failure(.whop, headers: headers)
        let text = error.map(String.init(describing:)) ?? ""
        #expect(!text.contains(Self.secrets[.whop]!))
        #expect(!text.contains(headers[0].value))
        #expect(text.contains("tolerance 300"))
    }

    @Test func standardGeneratesAMessageIDWhenNoneIsGiven() throws {
        let headers = WebhookScheme.standard.sign(body: Self.body, secret: Self.secrets[.standard]!)
        let id = try #require(headers.first { $0.name == "webhook-id" }?.value)
        #expect(id.hasPrefix("msg_"))
        try WebhookScheme.standard.verify(headers: headers, body: Self.body, secret: Self.secrets[.standard]!)
    }
}
