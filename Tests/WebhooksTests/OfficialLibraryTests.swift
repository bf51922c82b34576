import Foundation
import Support
import Testing
import Webhooks

/// Whether `pip install standardwebhooks stripe` was done; with CI=true they are required, never skipped.
enum PythonLibraries {
    static let probe = try? ProcessRunner.run(["python3", "-c", "import standardwebhooks, stripe"], timeout: 60)
    static var installed: Bool {
        if ProcessInfo.processInfo.environment["CI"] == "true" { return true }
        return probe?.exitCode == 0
    }
}

/// Signatures checked by the official Python libraries (`pip install standardwebhooks stripe`), both ways:
/// what we sign, they verify; what they sign, we verify.
@Suite(.enabled(if: PythonLibraries.installed, "python3 with standardwebhooks and stripe is not installed"))
struct OfficialLibraryTests {
    static let body = #"{"id":"evt_py_1","type":"payment_failed","data":{"membership_id":"mem_9","note":"ünïcode ✓"}}"#

    /// Runs a Python snippet with the body on stdin and the arguments in sys.argv; returns stdout.
    func python(_ script: String, _ arguments: [String]) throws -> String {
        let out = try ProcessRunner.run(["python3", "-c", script] + arguments, stdin: Self.body, timeout: 60)
        #expect(out.exitCode == 0, "python failed: \(out.stderr)")
        return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func standardWebhooksLibraryVerifiesOurSignature() throws {
        let secret = "whsec_" + Data((0..<32).map { UInt8($0 * 7 % 256) }).base64EncodedString()
        let headers = WebhookScheme.standard.sign(body: Data(Self.body.utf8), secret: secret, id: "msg_swift_1")
        let headerJSON = String(decoding: try JSONSerialization.data(withJSONObject: Dictionary(uniqueKeysWithValues: headers.map { ($0.name, $0.value) })), as: UTF8.self)
        let result = try python("""
            import sys, json
            from standardwebhooks.webhooks import Webhook
            body = sys.stdin.buffer.read()
            print(Webhook(sys.argv[1]).verify(body, json.loads(sys.argv[2]))["id"])
            """, [secret, headerJSON])
        #expect(result == "evt_py_1")
    }

    @Test func weVerifyTheStandardWebhooksLibrarySignature() throws {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let now = Int(Date().timeIntervalSince1970)
        let signature = try python("""
            import sys, datetime
            from standardwebhooks.webhooks import Webhook
            body = sys.stdin.buffer.read().decode()
            at = datetime.datetime.fromtimestamp(int(sys.argv[2]), tz=datetime.timezone.utc)
            print(Webhook(sys.argv[1]).sign("msg_py_1", at, body))
            """, [secret, String(now)])
        try WebhookScheme.standard.verify(
            headers: ["webhook-id": "msg_py_1", "webhook-timestamp": String(now), "webhook-signature": signature],
            body: Data(Self.body.utf8), secret: secret)
    }

    @Test func stripeLibraryVerifiesOurSignature() throws {
        let secret = "whsec_stripe_0123456789abcdef"
        let headers = WebhookScheme.stripe.sign(body: Data(Self.body.utf8), secret: secret)
        let result = try python("""
            import sys, stripe
            body = sys.stdin.buffer.read()
            stripe.WebhookSignature.verify_header(body.decode(), sys.argv[2], sys.argv[1], tolerance=300)
            print("ok")
            """, [secret, headers[0].value])
        #expect(headers[0].name == "Stripe-Signature")
        #expect(result == "ok")
    }

    @Test func stripeLibraryRejectsATamperedSignature() throws {
        let secret = "whsec_stripe_0123456789abcdef"
        let value = WebhookScheme.stripe.sign(body: Data((Self.body + " ").utf8), secret: secret)[0].value
        let result = try python("""
            import sys, stripe
            body = sys.stdin.buffer.read()
            try:
                stripe.WebhookSignature.verify_header(body.decode(), sys.argv[2], sys.argv[1], tolerance=300)
                print("accepted")
            except stripe.error.SignatureVerificationError:
                print("rejected")
            """, [secret, value])
        #expect(result == "rejected")
    }

    @Test func weVerifyTheStripeLibrarySignature() throws {
        let secret = "whsec_stripe_0123456789abcdef"
        let now = Int(Date().timeIntervalSince1970)
        let header = try python("""
            import sys, stripe
            body = sys.stdin.buffer.read().decode()
            t = sys.argv[2]
            print("t=%s,v1=%s" % (t, stripe.WebhookSignature._compute_signature("%s.%s" % (t, body), sys.argv[1])))
            """, [secret, String(now)])
        try WebhookScheme.stripe.verify(headers: ["stripe-signature": header], body: Data(Self.body.utf8), secret: secret)
    }

    @Test func whopSignatureIsPythonsHexHMAC() throws {
        let secret = "whop_secret_abcdefghijklmnop"
        let headers = WebhookScheme.whop.sign(body: Data(Self.body.utf8), secret: secret)
        let expected = try python("""
            import sys, hmac, hashlib
            print(hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha256).hexdigest())
            """, [secret])
        #expect(headers.first { $0.name == "x-whop-signature" }?.value == expected)
    }
}
