import Foundation
import Testing
import TestSupport
import Webhooks

/// The service verifies whichever scheme WEBHOOK_SCHEME names, and only that one.
@Suite(.enabled(if: TestDatabase.available))
struct OtherSchemesTests {
    @Test(arguments: [WebhookScheme.standard, .stripe])
    func serviceAcceptsItsConfiguredScheme(_ scheme: WebhookScheme) throws {
        let secret = "whsec_" + Data("churn-saver-\(scheme.rawValue)-secret-0123456789".utf8).base64EncodedString()
        let s = try RunningService(label: "scheme_\(scheme.rawValue)", scheme: scheme, secret: secret)
        defer { s.stop() }
        let event = Events.make("payment_failed", membership: "mem_\(scheme.rawValue)")
        let accepted = try s.deliver(event)
        #expect(accepted.status == 200, "\(accepted.bodyText)")
        #expect(try s.deliver(event, scheme: .whop).status == 401)
        #expect(try s.deliver(Events.make("payment_failed", membership: "m"), at: Date().addingTimeInterval(-600)).status == 401)
        #expect(try s.count("SELECT count(*) FROM recovery_cases") == 1)
    }
}
