import Foundation
import Support
import Testing
import Webhooks

/// Shopify's scheme checked against implementations that are not opsctl's: python's hmac/base64 and
/// `openssl dgst`. Both ways: what we sign they accept, what they sign we accept.
@Suite struct ShopifySchemeTests {
    static let secret = "shpss_0123456789abcdef0123456789abcdef"
    static let body = #"{"id":820982911946154508,"email":"jon@example.com","financial_status":"paid","note":"ünïcode ✓"}"#

    func python(_ script: String, _ arguments: [String]) throws -> String {
        let out = try ProcessRunner.run(["python3", "-c", script] + arguments, stdin: Self.body, timeout: 60)
        #expect(out.exitCode == 0, "python failed: \(out.stderr)")
        return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func header(_ headers: [WebhookHeader], _ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    @Test func pythonHMACVerifiesOurSignatureAndHeaders() throws {
        let at = Date(timeIntervalSince1970: 1_764_000_000.25)
        let headers = WebhookScheme.shopify.sign(body: Data(Self.body.utf8), secret: Self.secret, timestamp: at,
                                                 id: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", topic: "orders/paid")
        let hmacValue = try #require(header(headers, "X-Shopify-Hmac-Sha256"))
        let verdict = try python("""
            import sys, hmac, hashlib, base64
            body = sys.stdin.buffer.read()
            digest = base64.b64encode(hmac.new(sys.argv[1].encode(), body, hashlib.sha256).digest()).decode()
            print("valid" if hmac.compare_digest(digest, sys.argv[2]) else "invalid")
            """, [Self.secret, hmacValue])
        #expect(verdict == "valid")
        #expect(header(headers, "X-Shopify-Topic") == "orders/paid")
        #expect(header(headers, "X-Shopify-Webhook-Id") == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
        #expect(header(headers, "X-Shopify-Triggered-At") == "2025-11-24T16:00:00.250Z")
        #expect(header(headers, "X-Shopify-Shop-Domain")?.hasSuffix(".myshopify.com") == true)
        #expect(header(headers, "X-Shopify-API-Version")?.range(of: #"^\d{4}-\d{2}$"#, options: .regularExpression) != nil)
    }

    @Test func opensslAgreesWithOurSignature() throws {
        let dir = TemporaryFile(contents: Self.body)
        let mac = try ProcessRunner.run(["sh", "-c", #"openssl dgst -sha256 -hmac "$1" -binary "$2" | openssl base64 -A"#,
                                         "sh", Self.secret, dir.path], timeout: 30)
        #expect(mac.exitCode == 0, "\(mac.stderr)")
        let headers = WebhookScheme.shopify.sign(body: Data(Self.body.utf8), secret: Self.secret, topic: "orders/create")
        #expect(header(headers, "X-Shopify-Hmac-Sha256") == mac.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func weVerifyWhatPythonSigns() throws {
        let signature = try python("""
            import sys, hmac, hashlib, base64
            print(base64.b64encode(hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha256).digest()).decode())
            """, [Self.secret])
        // Shopify signs no timestamp and retries keep the original Triggered-At: an old delivery still verifies.
        try WebhookScheme.shopify.verify(
            headers: ["X-Shopify-Hmac-Sha256": signature, "X-Shopify-Topic": "orders/paid",
                      "X-Shopify-Triggered-At": "2020-01-01T00:00:00Z"],
            body: Data(Self.body.utf8), secret: Self.secret)
        #expect(throws: WebhookVerificationError.badSignature) {
            try WebhookScheme.shopify.verify(headers: ["x-shopify-hmac-sha256": signature],
                                             body: Data((Self.body + " ").utf8), secret: Self.secret)
        }
        #expect(throws: WebhookVerificationError.badSignature) {
            try WebhookScheme.shopify.verify(headers: ["X-Shopify-Hmac-Sha256": signature],
                                             body: Data(Self.body.utf8), secret: Self.secret + "x")
        }
    }

    @Test func refusesMissingOrMalformedHMAC() {
        #expect(throws: WebhookVerificationError.missingHeader("x-shopify-hmac-sha256")) {
            try WebhookScheme.shopify.verify(headers: ["X-Shopify-Topic": "orders/paid"], body: Data(Self.body.utf8), secret: Self.secret)
        }
        #expect(throws: WebhookVerificationError.malformedHeader("x-shopify-hmac-sha256", reason: "not base64")) {
            try WebhookScheme.shopify.verify(headers: ["X-Shopify-Hmac-Sha256": "%%%"], body: Data(Self.body.utf8), secret: Self.secret)
        }
    }

    @Test func configuredHeadersReplaceDefaultsButNeverTheSignature() {
        let headers = WebhookScheme.shopify.sign(
            body: Data(Self.body.utf8), secret: Self.secret, topic: "orders/paid",
            extra: [("X-Shopify-Shop-Domain", "acme.myshopify.com"), ("X-Shopify-Hmac-Sha256", "forged")])
        #expect(headers.filter { $0.name.lowercased() == "x-shopify-shop-domain" }.map(\.value) == ["acme.myshopify.com"])
        #expect(headers.filter { $0.name.lowercased() == "x-shopify-hmac-sha256" }.count == 1)
        #expect(header(headers, "X-Shopify-Hmac-Sha256") != "forged")
        #expect(WebhookScheme(name: "shopify") == .shopify && WebhookScheme(name: "standard-webhooks") == .standard)
    }
}

/// A file removed at deinit.
final class TemporaryFile {
    let path = NSTemporaryDirectory() + "opsctl-shopify-" + UUID().uuidString

    init(contents: String) { _ = FileManager.default.createFile(atPath: path, contents: Data(contents.utf8)) }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
