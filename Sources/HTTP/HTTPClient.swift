import CCurl
import Foundation
import Support

/// One libcurl easy handle. Reusing a client reuses its connections. One request at a time;
/// `cancel()` may be called from any thread and aborts the running transfer.
public final class HTTPClient: @unchecked Sendable {
    private let transfer: OpaquePointer

    public init() {
        HTTPGlobal.initialise()
        guard let t = ccurl_new() else { fatalError("libcurl could not allocate a handle (out of memory)") }
        transfer = t
    }

    deinit { ccurl_free(transfer) }

    /// Aborts the running transfer; called between transfers, it aborts the next one (a step that times
    /// out just before its request starts must not wait for that request's own timeout).
    public func cancel() {
        cancelLock.withLock { cancelPending = true }
        ccurl_cancel(transfer)
    }

    private let cancelLock = NSLock()
    private var cancelPending = false

    public func send(_ request: HTTPRequest) throws -> HTTPResponse {
        if let problem = HTTPGlobal.libraryError(request) { throw problem }
        ccurl_reset(transfer)
        defer { cancelLock.withLock { cancelPending = false } }
        try Self.configure(transfer, with: request)
        // ccurl_reset cleared the C-side flag: re-arm it if a cancel() arrived before the transfer began.
        if cancelLock.withLock({ cancelPending }) { ccurl_cancel(transfer) }
        let code = ccurl_perform(transfer)
        return try Self.response(from: transfer, code: code, request: request)
    }

    // MARK: - Shared by the easy and multi paths

    static func configure(_ t: OpaquePointer, with request: HTTPRequest) throws {
        let scheme = try checkedScheme(request)
        ccurl_setopt_str(t, CURLOPT_URL, request.url)
        ccurl_setopt_long(t, CURLOPT_TIMEOUT_MS, milliseconds(request.timeout))
        ccurl_setopt_long(t, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(request.connectTimeout))
        ccurl_setopt_long(t, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0)
        ccurl_setopt_long(t, CURLOPT_MAXREDIRS, request.maxRedirects)
        ccurl_setopt_long(t, CURLOPT_SSL_VERIFYPEER, request.insecure ? 0 : 1)
        ccurl_setopt_long(t, CURLOPT_SSL_VERIFYHOST, request.insecure ? 0 : 2)
        if let caFile = request.caFile { ccurl_setopt_str(t, CURLOPT_CAINFO, caFile) }
        ccurl_setopt_long(t, CURLOPT_CERTINFO, request.captureCertificate ? 1 : 0)
        // curl fills in the certificate chain only during a TLS handshake: a request that wants it must
        // not ride on a connection kept alive from an earlier request.
        if request.captureCertificate && scheme == "https" { ccurl_setopt_long(t, CURLOPT_FRESH_CONNECT, 1) }
        ccurl_setopt_str(t, CURLOPT_USERAGENT, "opsctl/\(HTTPGlobal.version)")
        ccurl_setopt_str(t, CURLOPT_ACCEPT_ENCODING, "")
        ProxyEnvironment.apply(to: t)
        ccurl_set_max_body(t, max(0, request.maxBodyBytes))
        switch request.method.uppercased() {
        case "GET": ccurl_setopt_long(t, CURLOPT_HTTPGET, 1)
        case "HEAD": ccurl_setopt_long(t, CURLOPT_NOBODY, 1)
        // A real POST (not a custom verb) so a followed 301/302/303 turns into a GET, as browsers do.
        case "POST": ccurl_setopt_long(t, CURLOPT_POST, 1)
        case let method: ccurl_setopt_str(t, CURLOPT_CUSTOMREQUEST, method)
        }
        setContent(t, request)
    }

    /// The body and header list: all that differs between requests of one shape (MultiClient reuses
    /// a handle's other options for those).
    static func setContent(_ t: OpaquePointer, _ request: HTTPRequest) {
        // POST/PUT/PATCH always carry a body (an empty one if none was given) so the request has a
        // Content-Length and the server does not wait for, or refuse (411), a body that never comes.
        let body: [UInt8]?
        switch request.body {
        case let given?: body = given
        case nil:
            switch request.method.uppercased() {
            case "POST", "PUT", "PATCH": body = []
            default: body = nil
            }
        }
        if let body {
            body.withUnsafeBytes { raw in
                _ = ccurl_set_body(t, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
            }
        }
        // The header lines, each ended by a NUL, in one buffer: the transfer copies them into its own
        // reused list (one allocation here per request instead of a string and a list node per header).
        var lines: [UInt8] = []
        lines.reserveCapacity(request.headers.reduce(16) { $0 + $1.name.utf8.count + $1.value.utf8.count + 3 })
        func append(name: some StringProtocol, value: some StringProtocol) {
            lines.append(contentsOf: name.utf8)
            // curl drops a header given as "Name:" (that is how defaults are removed); "Name;" sends it empty.
            if value.isEmpty {
                lines.append(UInt8(ascii: ";"))
            } else {
                lines.append(UInt8(ascii: ":"))
                lines.append(UInt8(ascii: " "))
                lines.append(contentsOf: value.utf8)
            }
            lines.append(0)
        }
        for (name, value) in request.headers {
            // The common case, checked by bytes (filtering Characters cost more than the request's
            // other options): a name of token bytes and a value without line ends go as they are.
            if Self.isPlainHeader(name: name, value: value) {
                append(name: name, value: value)
                continue
            }
            // No header splitting: line ends (and a colon in the name) are dropped; so are NULs, which
            // would end the line early.
            let cleanName = trimmingOWS(name.filter { $0 != "\r" && $0 != "\n" && $0 != "\r\n" && $0 != ":" && $0 != "\0" }.utf8)
            let cleanValue = value.filter { !$0.isNewline && $0 != "\0" }
            guard !cleanName.isEmpty else { continue }
            append(name: cleanName, value: cleanValue)
        }
        // curl sends "Expect: 100-continue" for large bodies, adding a round trip: disable it.
        lines.append(contentsOf: "Expect:".utf8)
        lines.append(0)
        lines.withUnsafeBytes { raw in
            _ = ccurl_set_headers(t, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
        }
    }

    /// A name of visible ASCII bytes without a colon, and an ASCII value without line ends (LF, VT, FF, CR) or NUL.
    static func isPlainHeader(name: String, value: String) -> Bool {
        let n = name.utf8, v = value.utf8
        guard !n.isEmpty, n.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }) else { return false }
        // U+0085 and U+2028 are line ends too: anything beyond ASCII takes the careful path.
        return v.allSatisfy { $0 < 0x80 && $0 != 0 && !(0x0A...0x0D).contains($0) }
    }

    /// Seconds to curl milliseconds; 0 (curl: no limit) for values that are not positive and finite.
    /// The URL's scheme (http or https) once the URL is known to be valid. A replay sends thousands of
    /// requests to one URL: it is parsed (URLComponents) once, not per request.
    private static func checkedScheme(_ request: HTTPRequest) throws -> String {
        if let known = lastValidURLLock.withLock({ lastValidURL }), known.url == request.url { return known.scheme }
        guard let components = URLComponents(string: request.url), let scheme = components.scheme?.lowercased(),
              ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty else {
            throw HTTPError(kind: .invalidURL, host: request.hostForMessages, curlCode: Int(CURLE_URL_MALFORMAT.rawValue),
                            detail: "not a valid http(s) URL")
        }
        lastValidURLLock.withLock { lastValidURL = (request.url, scheme) }
        return scheme
    }

    // Guarded by lastValidURLLock.
    nonisolated(unsafe) private static var lastValidURL: (url: String, scheme: String)?
    private static let lastValidURLLock = NSLock()

    private static func milliseconds(_ seconds: Double) -> Int {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return Int(min(seconds * 1000, Double(Int32.max)).rounded(.up))
    }

    static func response(from t: OpaquePointer, code: CURLcode, request: HTTPRequest) throws -> HTTPResponse {
        guard code == CURLE_OK else { throw error(code: code, transfer: t, request: request) }
        var length = 0
        let bodyPointer = ccurl_body(t, &length)
        let body = [UInt8](UnsafeRawBufferPointer(start: bodyPointer, count: length))
        var headerLength = 0
        let headerPointer = ccurl_header_block(t, &headerLength)
        let headerBlock = [UInt8](UnsafeRawBufferPointer(start: headerPointer, count: headerLength))
        var seconds = (0.0, 0.0, 0.0, 0.0, 0.0)
        withUnsafeMutableBytes(of: &seconds) { ccurl_timings(t, $0.baseAddress!.assumingMemoryBound(to: Double.self)) }
        let timings = HTTPTimings(dnsMs: seconds.0 * 1000, connectMs: seconds.1 * 1000, tlsMs: seconds.2 * 1000,
                                  firstByteMs: seconds.3 * 1000, totalMs: seconds.4 * 1000)
        return HTTPResponse(status: ccurl_info_long(t, CURLINFO_RESPONSE_CODE),
                            headerBlock: headerBlock,
                            body: body,
                            bodyTruncated: ccurl_body_truncated(t) != 0,
                            timings: timings,
                            certificate: request.captureCertificate ? certificate(t) : nil,
                            effectiveURL: effectiveURL(t, request))
    }

    /// The URL the transfer ended at: the request's own (no new string) unless a redirect was followed.
    private static func effectiveURL(_ t: OpaquePointer, _ request: HTTPRequest) -> String {
        guard let url = ccurl_info_str(t, CURLINFO_EFFECTIVE_URL) else { return request.url }
        var url8 = request.url
        return url8.withUTF8 { own in
            strlen(url) == own.count && memcmp(url, own.baseAddress!, own.count) == 0
        } ? request.url : String(cString: url)
    }


    static func certificate(_ t: OpaquePointer) -> PeerCertificate? {
        guard ccurl_cert_count(t) > 0 else { return nil }
        func field(_ name: String) -> String? {
            var buffer = [CChar](repeating: 0, count: 1024)
            guard ccurl_cert_field(t, 0, name, &buffer, buffer.count) == 1 else { return nil }
            return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        }
        return PeerCertificate(subject: field("Subject") ?? "", issuer: field("Issuer") ?? "",
                               notAfter: field("Expire date").flatMap(parseCertificateDate))
    }

    /// OpenSSL prints `Dec 31 23:59:59 2026 GMT` (older curl) or `2026-12-31 23:59:59 GMT`.
    static func parseCertificateDate(_ text: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        for format in ["MMM d HH:mm:ss yyyy zzz", "yyyy-MM-dd HH:mm:ss zzz", "MMM  d HH:mm:ss yyyy zzz"] {
            f.dateFormat = format
            if let d = f.date(from: text.trimmingCharacters(in: .whitespaces)) { return d }
        }
        return nil
    }

    static func error(code: CURLcode, transfer t: OpaquePointer, request: HTTPRequest) -> HTTPError {
        let text = String(cString: ccurl_error_text(t))
        let detail = text.isEmpty ? String(cString: ccurl_strerror(code)) : text
        let kind: HTTPError.Kind
        switch code {
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: kind = .invalidURL
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: kind = .dns
        case CURLE_COULDNT_CONNECT: kind = .connect
        // curl counts name resolution against the connect timeout: a resolver that never answers is a DNS problem.
        case CURLE_OPERATION_TIMEDOUT: kind = detail.hasPrefix("Resolving timed out") ? .dns : .timeout
        case CURLE_ABORTED_BY_CALLBACK: kind = .cancelled
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM: kind = .certificate
        case CURLE_SSL_CONNECT_ERROR: kind = detail.lowercased().contains("certificate") ? .certificate : .tls
        default: kind = .transfer
        }
        return HTTPError(kind: kind, host: request.hostForMessages, curlCode: Int(code.rawValue), detail: detail)
    }
}

extension HTTPClient {
    /// Loads libcurl (dlopen of it and its dependencies, curl_global_init) on a thread of its own, so a
    /// caller about to send overlaps the load with its other start-up work instead of paying it at the
    /// first request. Once per process; a load that fails is reported by the first request as always.
    public static func loadInBackground() {
        Thread.detachNewThread { HTTPGlobal.initialise() }
    }
}

enum HTTPGlobal {
    static let version = "0.1.0"
    /// libcurl is loaded on first use (Sources/CCurl); nil when it loaded, else why not.
    private static let loadError: String? = ccurl_global_init() == 0 ? nil : String(cString: ccurl_load_error())
    static func initialise() { _ = loadError }

    /// The request's error when libcurl could not be loaded: what is missing and what installs it.
    static func libraryError(_ request: HTTPRequest) -> HTTPError? {
        loadError.map { HTTPError(kind: .library, host: request.hostForMessages, curlCode: Int(CURLE_FAILED_INIT.rawValue), detail: $0) }
    }
}
