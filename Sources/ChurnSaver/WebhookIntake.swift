import Foundation
import Hummingbird
import Postgres
import Webhooks

/// `POST /api/webhooks/whop`: verify the signature in the configured scheme, store the event once,
/// process it, and log the delivery to `webhook_logs`.
struct WebhookIntake: Sendable {
    static let endpoint = "/api/webhooks/whop"
    static let maxBody = 1 << 20

    let scheme: WebhookScheme
    let secret: String
    let tolerance: TimeInterval
    let batcher: EventBatcher
    let faults: FaultSwitch
    let logs: RequestLogWriter

    func handle(_ request: Request) async throws -> Response {
        let start = ContinuousClock.now
        let body = Array(try await request.body.collect(upTo: Self.maxBody).readableBytesView)
        let headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        let faults = self.faults.current

        func finish(_ response: Response, type: String?, error: String?) -> Response {
            logs.record(.init(endpoint: Self.endpoint, eventType: type, success: error == nil,
                              durationMs: Int(HealthChecks.milliseconds(since: start).rounded()), error: error, at: Date()))
            return response
        }

        if faults.rejectSignatures {
            return finish(JSONResponse.error("invalid signature", status: .unauthorized,
                                             extra: ["reason": "bad_signature", "detail": "injected fault reject_signatures"]),
                          type: nil, error: "signature rejected (injected fault reject_signatures)")
        }
        do {
            try scheme.verify(headers: headers, body: body, secret: secret, tolerance: tolerance)
        } catch {
            let message = error == .badSignature ? "invalid signature" : "signature verification failed"
            return finish(JSONResponse.error(message, status: .unauthorized,
                                             extra: ["reason": error.code, "detail": error.description, "scheme": scheme.rawValue]),
                          type: nil, error: "\(scheme.rawValue) signature: \(error.description)")
        }
        let event: IncomingEvent
        do {
            let messageID = headers.first { $0.name.lowercased() == "webhook-id" }?.value
            event = try IncomingEvent.parse(body: body, fallbackID: messageID)
        } catch {
            return finish(JSONResponse.error("invalid event", status: .badRequest, extra: ["detail": "\(error)"]),
                          type: nil, error: "invalid event: \(error)")
        }
        do {
            let outcome = try await batcher.process(event, injectFailure: faults.processingErrors)
            let fields: [String: Any] = ["event_id": event.id, "type": event.type]
            switch outcome {
            case .processed:
                return finish(JSONResponse.encode(Accepted(eventID: event.id, status: "processed", type: event.type)),
                              type: event.type, error: nil)
            case .duplicate:
                return finish(JSONResponse.encode(Accepted(eventID: event.id, status: "duplicate", type: event.type)),
                              type: event.type, error: nil)
            case let .failed(reason):
                return finish(JSONResponse.error("processing failed", status: .internalServerError,
                                                 extra: fields.merging(["detail": reason]) { $1 }),
                              type: event.type, error: reason)
            case let .error(reason):
                return finish(JSONResponse.error("event not stored", status: .serviceUnavailable,
                                                 extra: fields.merging(["detail": reason]) { $1 }),
                              type: event.type, error: reason)
            }
        } catch {
            let reason = HealthChecks.describe(error)
            return finish(JSONResponse.error("database unavailable", status: .serviceUnavailable,
                                             extra: ["event_id": event.id, "detail": reason]),
                          type: event.type, error: reason)
        }
    }
}

/// The answer to an accepted delivery (the hot path: a typed value, encoded without bridging).
struct Accepted: Encodable {
    var eventID: String
    var status: String
    var type: String

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", status, type
    }
}
