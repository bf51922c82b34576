import Foundation
import HTTP

extension StepContext {
    /// Sends a request on a fresh client that is aborted if the step is cancelled.
    public func send(_ request: HTTPRequest) throws -> HTTPResponse {
        if cancellation.isCancelled { throw StepError("cancelled before sending") }
        var request = request
        if insecure { request.insecure = true }
        let client = HTTPClient()
        cancellation.onCancel { client.cancel() }
        do {
            return try client.send(request)
        } catch let error as HTTPError {
            throw StepError(error.description, details: ["host": .string(error.host), "curl_code": .int(error.curlCode)])
        }
    }

    /// Resolves a URL that may be relative to the environment's base URL (`/healthz`).
    public func resolve(url: String) throws -> String {
        if url.hasPrefix("/") {
            guard let base = baseURL else {
                throw StepError("url '\(url)' is relative but no base URL is configured: set base_url for the environment in opsctl.yaml or pass --url")
            }
            return base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + url
        }
        return url
    }
}
