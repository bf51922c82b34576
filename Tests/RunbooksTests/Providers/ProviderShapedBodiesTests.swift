import Checks
import Foundation
import Support
import Testing
import TestSupport

/// `opsctl webhook send` delivers, for each scheme, the body and headers that provider really sends,
/// and a handler using the provider's own verification (official stripe / standardwebhooks packages,
/// python hmac for Shopify and Whop) accepts it.
@Suite(.serialized)
final class ProviderShapedBodiesTests {
    let fixture: ProviderFixture

    init() throws { fixture = try ProviderFixture() }

    /// Only the environment: the service mapping is the default (churn-saver) profile's.
    var defaultConfig: String {
        "environments:\n  local:\n    base_url: \(fixture.baseURL)\n"
    }

    func send(_ scheme: String, _ extra: [String] = [], config: String? = nil) throws -> (ProcessOutput, JSONValue?) {
        let out = try fixture.opsctl(["webhook", "send", "--scheme", scheme, "--secret-env", "\(scheme.uppercased())_SECRET",
                                      "--url", "/hooks/\(scheme)", "--format", "json"] + extra, config: config ?? defaultConfig)
        return (out, fixture.records(fixture.deliveriesFile).last)
    }

    @Test func stripeHandlerAcceptsAStripeShapedInvoicePaymentFailed() throws {
        let (out, delivery) = try send("stripe", ["--type", "invoice.payment_failed"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let body = try #require(delivery?["body"])
        #expect(body["object"]?.string == "event" && body["type"]?.string == "invoice.payment_failed")
        #expect(body["id"]?.string?.hasPrefix("evt_opsctl_synthetic_") == true)
        #expect(body["livemode"] == .bool(false) && body["created"]?.int != nil && body["api_version"]?.string != nil)
        #expect(body["data"]?["object"]?["object"]?.string == "invoice")
        // The profile's fields travel in data.object (Stripe's place for the resource).
        #expect(body["data"]?["object"]?["membership_id"]?.string == "opsctl_synthetic_membership")
    }

    @Test func standardWebhooksHandlerAcceptsTypeTimestampData() throws {
        let (out, delivery) = try send("standard", ["--type", "membership.activated", "--data", "plan=pro"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let body = try #require(delivery?["body"])
        #expect(body["type"]?.string == "membership.activated" && body["timestamp"]?.string != nil)
        #expect(body["data"]?["plan"]?.string == "pro" && body["data"]?["membership_id"] != nil)
        #expect(delivery?["headers"]?["webhook-id"]?.string?.hasPrefix("opsctl_synthetic_") == true)
    }

    @Test func whopHandlerAcceptsTodaysShapeWithTheProfilesFields() throws {
        let (out, delivery) = try send("whop")
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let body = try #require(delivery?["body"])
        #expect(body["type"]?.string == "payment_succeeded", "the churn-saver profile's synthetic_event.type")
        #expect(body["data"]?["membership_id"]?.string == "opsctl_synthetic_membership")
        #expect(body["created_at"]?.string != nil)
    }

    @Test func shopifyHandlerAcceptsTheResourceWithTopicAndShopHeaders() throws {
        let config = """
            environments:
              local:
                base_url: \(fixture.baseURL)
            service:
              provider:
                scheme: shopify
                secret_env: SHOPIFY_SECRET
                webhook_path: /hooks/shopify
                headers: { X-Shopify-Shop-Domain: acme-store.myshopify.com }
                synthetic_event:
                  type: orders/paid
                  data: { email: opsctl_synthetic_buyer@example.com, financial_status: paid, total_price: "0.00" }
            """
        let out = try fixture.opsctl(["webhook", "send", "--format", "json"], config: config)
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let delivery = try #require(fixture.records(fixture.deliveriesFile).last)
        let headers = delivery["headers"] ?? .null
        #expect(headers["X-Shopify-Topic"]?.string == "orders/paid")
        #expect(headers["X-Shopify-Shop-Domain"]?.string == "acme-store.myshopify.com")
        #expect(headers["X-Shopify-Webhook-Id"]?.string?.hasPrefix("opsctl_synthetic_") == true)
        let body = delivery["body"] ?? .null
        #expect(body["email"]?.string == "opsctl_synthetic_buyer@example.com" && body["financial_status"]?.string == "paid")
        #expect(body["id"]?.int != nil, "an order has a numeric id")
        #expect(body["data"] == nil && body["type"] == nil, "Shopify sends the resource itself, no envelope")

        // `webhook sign` prints the same headers for the same configuration.
        let signed = try fixture.opsctl(["webhook", "sign"], config: config)
        #expect(signed.exitCode == 0 && signed.stdout.contains("X-Shopify-Hmac-Sha256: ") && signed.stdout.contains("X-Shopify-Topic: orders/paid"),
                "\(signed.stdout)\(signed.stderr)")
    }

    @Test func aWrongSecretIsRefusedByTheIndependentVerifier() throws {
        let out = try fixture.opsctl(["webhook", "send", "--scheme", "stripe", "--secret-env", "WHOP_SECRET", "--url", "/hooks/stripe"],
                                     config: defaultConfig)
        #expect(out.exitCode == 1, "\(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("answered 400"), "\(out.stdout)")
        #expect(fixture.records(fixture.deliveriesFile).isEmpty)
        let bad = try fixture.opsctl(["webhook", "send", "--scheme", "paddle"], config: defaultConfig)
        #expect(bad.exitCode == 64 && bad.stderr.contains("whop, standard, stripe or shopify"), "\(bad.stderr)")
    }
}
