import Foundation
import Hummingbird

/// Applies the injected slowness and random 500s, and logs every request to `api_request_logs`.
/// `/admin/*` is exempt from both, so faults can always be cleared.
struct OperationsMiddleware<Context: RequestContext>: RouterMiddleware {
    let faults: FaultSwitch
    let logs: RequestLogWriter

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if path == "/admin" || path.hasPrefix("/admin/") { return try await next(request, context) }
        let start = ContinuousClock.now
        func record(_ status: Int) {
            let ms = Int(HealthChecks.milliseconds(since: start).rounded())
            logs.record(.init(route: path, method: request.method.rawValue, statusCode: status, durationMs: ms, at: Date()))
        }
        let faults = self.faults.current
        do {
            if faults.slowMs > 0 { try await Task.sleep(for: .milliseconds(faults.slowMs)) }
            if faults.errorRate > 0, Double.random(in: 0..<1) < faults.errorRate {
                if path == WebhookIntake.endpoint {
                    logs.record(.init(endpoint: path, eventType: nil, success: false,
                                      durationMs: Int(HealthChecks.milliseconds(since: start).rounded()),
                                      error: "injected fault error_rate", at: Date()))
                }
                record(500)
                return JSONResponse.error("internal error (injected fault error_rate)", status: .internalServerError)
            }
            let response = try await next(request, context)
            record(Int(response.status.code))
            return response
        } catch let error as HTTPError {
            record(Int(error.status.code))
            throw error
        } catch {
            record(500)
            throw error
        }
    }
}
