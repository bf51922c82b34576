import Foundation
import Support
import HTTP
import Webhooks

/// Sends one signed webhook to the service, as the provider would.
public struct WebhookSend: StepKind {
    public static let name = "webhooks.send"
    public static let summary = "Send a signed webhook (Whop, Standard Webhooks, Stripe or Shopify signature) to the service's intake"
    public static let parameters: [ParameterSpec] = WebhookDelivery.signingParameters + [
        .init("expect_status", .int, default: 200, "status the service must answer"),
        .init("timeout", .duration, default: "10s", "request timeout"),
    ]
    /// It delivers a synthetic event that the runbook removes again (see webhooks.remove_synthetic);
    /// no real customer data is touched, so verification runs without confirmation.
    public static let mutates = false
    public static let example = """
        - id: send-test-event
          kind: webhooks.send
          with: { type: invoice.payment_failed, expect_status: 200 }
        """

    let parameters: StepParameters
    let expectStatus: Int
    let timeout: Double

    public init(_ p: StepParameters) throws {
        parameters = p
        expectStatus = try p.int("expect_status", default: 200)
        timeout = try p.duration("timeout", default: 10)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let delivery = try WebhookDelivery.build(parameters, context: context)
        var request = HTTPRequest(method: "POST", url: delivery.url, headers: delivery.headers, body: delivery.body, timeout: timeout)
        request.followRedirects = false
        let response: HTTPResponse
        do {
            response = try context.send(request)
        } catch let error as StepError {
            return .init(.fail, "webhook not delivered: \(error.message)", details: ["event_id": .string(delivery.eventID)])
        }
        let details: [String: JSONValue] = [
            "event_id": .string(delivery.eventID), "type": .string(delivery.type), "scheme": .string(delivery.scheme.rawValue),
            "status_code": .int(response.status), "url": .string(delivery.url),
            "signature_headers": .array(delivery.headers.map { .string($0.name) }),
            "response": JSONValue.parse(Data(response.body)) ?? .string(String(SecretMasker.shared.mask(response.bodyText).prefix(300))),
        ]
        let metrics = [Metric(name: "latency", value: response.timings.totalMs, unit: "ms", min: 0)]
        guard response.status == expectStatus else {
            let why = response.status == 401 ? " — the service rejected the signature: check webhook.scheme and the secret for this environment" : ""
            return .init(.fail, "event \(delivery.eventID) answered \(response.status), expected \(expectStatus)\(why)", details: details, metrics: metrics)
        }
        return .ok("event \(delivery.eventID) (\(delivery.scheme.rawValue) signature) accepted with \(response.status)", details: details, metrics: metrics)
    }
}
