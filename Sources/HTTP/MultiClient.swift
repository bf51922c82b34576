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
    /// Every handle of the pool; a handle's index here is its slot (kept in the handle, ccurl_slot), which
    /// indexes the arrays below and a run's in-flight requests: no dictionary hashing per request.
    private var handles: [OpaquePointer] = []
    /// How each handle was last set up: a request of the same shape only needs its body and headers.
    private var shapes: [RequestShape?] = []
    /// Slots of the handles not in use.
    private var idle: [Int] = []
    private let stopLock = NSLock()
    private var stopRequested = false

    public init(concurrency: Int) {
        HTTPGlobal.initialise()
        self.concurrency = max(1, concurrency)
        guard let m = ccurl_multi_new(Int(self.concurrency)) else { fatalError("libcurl could not allocate a multi handle") }
        multi = m
    }

    deinit {
        for t in handles { ccurl_free(t) }
        ccurl_multi_free(multi)
    }

    /// Stops feeding new requests and aborts the ones in flight (thread safe).
    public func stop() {
        stopLock.withLock { stopRequested = true }
        ccurl_multi_wakeup(multi)
    }

    private var isStopped: Bool { stopLock.withLock { stopRequested } }

    /// A free handle's slot (a new handle when all are in use).
    private func takeSlot() -> Int {
        if let slot = idle.popLast() { return slot }
        let t = ccurl_new()!
        ccurl_set_slot(t, handles.count)
        handles.append(t)
        shapes.append(nil)
        return handles.count - 1
    }

    /// `next` returns the next request with a caller tag, or nil when there are no more.
    public func run<Tag>(next: () -> (Tag, HTTPRequest)?,
                         completed: (Tag, Result<HTTPResponse, HTTPError>) -> Void) {
        // By slot; `inFlightCount` of them are set.
        var inFlight: [(Tag, HTTPRequest)?] = Array(repeating: nil, count: handles.count)
        var inFlightCount = 0
        var exhausted = false
        func fill() {
            while !exhausted, !isStopped, inFlightCount < concurrency {
                guard let (tag, request) = next() else { exhausted = true; return }
                if let problem = HTTPGlobal.libraryError(request) {
                    completed(tag, .failure(problem))
                    continue
                }
                let slot = takeSlot()
                let t = handles[slot]
                let shape = RequestShape(request)
                if let shape, shapes[slot] == shape {
                    ccurl_reuse(t)
                    HTTPClient.setContent(t, request)
                } else {
                    ccurl_reset(t)
                    shapes[slot] = nil
                    do {
                        try HTTPClient.configure(t, with: request)
                        shapes[slot] = shape
                    } catch let error as HTTPError {
                        idle.append(slot)
                        completed(tag, .failure(error))
                        continue
                    } catch {
                        idle.append(slot)
                        continue
                    }
                }
                guard ccurl_multi_add(multi, t) == CURLM_OK else {
                    idle.append(slot)
                    completed(tag, .failure(HTTPError(kind: .transfer, host: request.hostForMessages,
                                                      curlCode: Int(CURLE_FAILED_INIT.rawValue),
                                                      detail: "libcurl refused to start the transfer")))
                    continue
                }
                if slot >= inFlight.count { inFlight.append(contentsOf: repeatElement(nil, count: slot + 1 - inFlight.count)) }
                inFlight[slot] = (tag, request)
                inFlightCount += 1
            }
        }
        fill()
        var running: Int32 = 0
        while inFlightCount > 0 {
            if isStopped {
                // Transfers run only when their socket or timer fires (curl_multi_socket_action): an idle
                // one would not see a cancel flag until its timeout, so stopped transfers are taken out here.
                for slot in inFlight.indices {
                    guard let (tag, request) = inFlight[slot] else { continue }
                    let t = handles[slot]
                    ccurl_cancel(t)
                    ccurl_multi_remove(multi, t)
                    completed(tag, .failure(HTTPClient.error(code: CURLE_ABORTED_BY_CALLBACK, transfer: t, request: request)))
                    inFlight[slot] = nil
                    idle.append(slot)
                }
                inFlightCount = 0
                break
            }
            ccurl_multi_step(multi, 100, &running)
            var code = CURLE_OK
            while let t = ccurl_multi_next_done(multi, &code) {
                ccurl_multi_remove(multi, t)
                let slot = ccurl_slot(t)
                guard slot < inFlight.count, let (tag, request) = inFlight[slot] else { continue }
                inFlight[slot] = nil
                inFlightCount -= 1
                if code == CURLE_OK, let response = try? HTTPClient.response(from: t, code: code, request: request) {
                    completed(tag, .success(response))
                } else {
                    completed(tag, .failure(HTTPClient.error(code: code, transfer: t, request: request)))
                }
                idle.append(slot)
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
