import Checks
import Foundation
import Support
import Testing
import TestSupport

/// `replay` re-signs in the Shopify scheme: each stored event's type goes out as X-Shopify-Topic, its
/// id as X-Shopify-Webhook-Id, with the configured shop headers; a python-hmac handler accepts each once.
@Suite(.enabled(if: TestDatabase.available))
struct ShopifyReplayTests {
    @Test func replayFromAnExportDeliversEachOrderWithItsTopic() throws {
        let fixture = try ProviderFixture()
        let databaseURL = try TestDatabase.fresh("shopify_replay")
        let orders = (1...3).map { #"{"id":"wh_\#($0)","type":"orders/paid","order_id":\#(9000 + $0),"financial_status":"paid"}"# }
        let plan = try fixture.directory.write("orders.jsonl", orders.joined(separator: "\n") + "\n")
        let config = """
            environments:
              local:
                base_url: \(fixture.baseURL)
                database_url_env: SHOP_DATABASE_URL
            service:
              provider:
                scheme: shopify
                secret_env: SHOPIFY_SECRET
                webhook_path: /hooks/shopify
                headers: { X-Shopify-Shop-Domain: acme-store.myshopify.com, X-Shopify-API-Version: "2025-10" }
            """
        let out = try fixture.opsctl(["replay", "--from-file", plan, "--format", "json"], config: config,
                                     env: ["SHOP_DATABASE_URL": databaseURL])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let deliveries = fixture.records(fixture.deliveriesFile)
        #expect(deliveries.count == 3, "\(deliveries)")
        #expect(Set(deliveries.compactMap { $0["headers"]?["X-Shopify-Webhook-Id"]?.string }) == ["wh_1", "wh_2", "wh_3"])
        #expect(deliveries.allSatisfy { $0["headers"]?["X-Shopify-Topic"]?.string == "orders/paid" })
        #expect(deliveries.allSatisfy { $0["headers"]?["X-Shopify-Shop-Domain"]?.string == "acme-store.myshopify.com" })
        #expect(deliveries.allSatisfy { $0["headers"]?["X-Shopify-API-Version"]?.string == "2025-10" })
    }
}
