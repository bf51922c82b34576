import CCurl
import Foundation

/// Many concurrent requests on one thread through the curl multi interface.
///
/// `run` keeps up to `concurrency` transfers in flight, asks `next()` for more as slots free up,
/// and reports each completion to `completed` in finishing order. Handles are pooled so
/// connections are reused (keep-alive) across requests.
public final class MultiClient: @unchecked Sendable {
    private let multi: OpaquePointer
    private let concurrency: Int
    private var idle: [OpaquePointer] = []
    /// How each idle handle was last set up: a request of the same shape only needs its body and headers.
    private var shapes: [OpaquePointer: RequestShape] = [:]
    private let stopLock = NSLock()
    private var stopRequested = false

    public init(concurrency: Int) {
        HTTPGlobal.initialise()
        self.concurrency = max(1, concurrency)
        guard let m = ccurl_multi_new(Int(self.concurrency)) else { fatalError("libcurl could not allocate a multi handle") }
        multi = m
    }

    deinit {
        for t in idle { ccurl_free(t) }
        ccurl_multi_free(multi)
    }

    /// Stops feeding new requests and aborts the ones in flight (thread safe).
    public func stop() {
        stopLock.withLock { stopRequested = true }
        ccurl_multi_wakeup(multi)
    }

    private var isStopped: Bool { stopLock.withLock { stopRequested } }

    /// `next` returns the next request with a caller tag, or nil when there are no more.
    public func run<Tag>(next: () -> (Tag, HTTPRequest)?,
                         completed: (Tag, Result<HTTPResponse, HTTPError>) -> Void) {
        var inFlight: [OpaquePointer: (Tag, HTTPRequest)] = [:]
        var exhausted = false
        func fill() {
            while !exhausted, !isStopped, inFlight.count < concurrency {
                guard let (tag, request) = next() else { exhausted = true; return }
                if let problem = HTTPGlobal.libraryError(request) {
                    completed(tag, .failure(problem))
                    continue
                }
                let t = idle.popLast() ?? ccurl_new()!
                let shape = RequestShape(request)
                if let shape, shapes[t] == shape {
                    ccurl_reuse(t)
                    HTTPClient.setContent(t, request)
                } else {
                    ccurl_reset(t)
                    shapes[t] = nil
                    do {
                        try HTTPClient.configure(t, with: request)
                        shapes[t] = shape
                    } catch let error as HTTPError {
                        idle.append(t)
                        completed(tag, .failure(error))
                        continue
                    } catch {
                        idle.append(t)
                        continue
                    }
                }
                guard ccurl_multi_add(multi, t) == CURLM_OK else {
                    idle.append(t)
                    completed(tag, .failure(HTTPError(kind: .transfer, host: request.hostForMessages,
                                                      curlCode: Int(CURLE_FAILED_INIT.rawValue),
                                                      detail: "libcurl refused to start the transfer")))
                    continue
                }
                inFlight[t] = (tag, request)
            }
        }
        fill()
        var running: Int32 = 0
        while !inFlight.isEmpty {
            if isStopped {
                // Transfers run only when their socket or timer fires (curl_multi_socket_action): an idle
                // one would not see a cancel flag until its timeout, so stopped transfers are taken out here.
                for (t, (tag, request)) in inFlight {
                    ccurl_cancel(t)
                    ccurl_multi_remove(multi, t)
                    completed(tag, .failure(HTTPClient.error(code: CURLE_ABORTED_BY_CALLBACK, transfer: t, request: request)))
                    idle.append(t)
                }
                inFlight.removeAll()
                break
            }
            ccurl_multi_step(multi, 100, &running)
            var code = CURLE_OK
            while let done = ccurl_multi_next_done(multi, &code) {
                let t = done
                ccurl_multi_remove(multi, t)
                guard let (tag, request) = inFlight.removeValue(forKey: t) else { continue }
                if code == CURLE_OK, let response = try? HTTPClient.response(from: t, code: code, request: request) {
                    completed(tag, .success(response))
                } else {
                    completed(tag, .failure(HTTPClient.error(code: code, transfer: t, request: request)))
                }
                idle.append(t)
            }
            fill()
        }
    }
}

/// Everything HTTPClient.configure sets on a handle except the body and headers. A request asking for
/// the certificate chain has none: it needs a fresh connection (FRESH_CONNECT), never a reused setup.
struct RequestShape: Equatable {
    var method: String
    var url: String
    var timeout: Double
    var connectTimeout: Double
    var followRedirects: Bool
    var maxRedirects: Int
    var insecure: Bool
    var caFile: String?
    var maxBodyBytes: Int

    init?(_ request: HTTPRequest) {
        guard !request.captureCertificate else { return nil }
        method = request.method
        url = request.url
        timeout = request.timeout
        connectTimeout = request.connectTimeout
        followRedirects = request.followRedirects
        maxRedirects = request.maxRedirects
        insecure = request.insecure
        caFile = request.caFile
        maxBodyBytes = request.maxBodyBytes
    }
}
