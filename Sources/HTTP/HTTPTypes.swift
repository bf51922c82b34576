import Foundation
import Support

/// A request: method, URL, headers, optional body and transfer policy.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// Whole-transfer timeout in seconds.
    public var timeout: Double
    public var connectTimeout: Double
    public var followRedirects: Bool
    public var maxRedirects: Int
    /// TLS verification is on unless the operator explicitly asks for `--insecure`.
    public var insecure: Bool
    /// Collect the peer certificate chain (subject, issuer, notAfter).
    public var captureCertificate: Bool
    /// Bodies beyond this are cut (and flagged); protects memory against huge responses.
    public var maxBodyBytes: Int
    /// PEM file of certificate authorities to trust instead of the system store (internal CAs, pinning).
    public var caFile: String?

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [],
                body: [UInt8]? = nil, timeout: Double = 10, connectTimeout: Double = 5,
                followRedirects: Bool = false, maxRedirects: Int = 5, insecure: Bool = false,
                captureCertificate: Bool = false, maxBodyBytes: Int = 8 << 20) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.followRedirects = followRedirects
        self.maxRedirects = maxRedirects
        self.insecure = insecure
        self.captureCertificate = captureCertificate
        self.maxBodyBytes = maxBodyBytes
    }

    public init(method: String = "POST", url: String, headers: [(name: String, value: String)] = [], body: String) {
        self.init(method: method, url: url, headers: headers, body: Array(body.utf8))
    }

    /// Host (and port) of the URL for messages, never userinfo, path, query or fragment.
    public var hostForMessages: String {
        if let c = URLComponents(string: url), let host = c.host, !host.isEmpty {
            return c.port.map { "\(host):\($0)" } ?? host
        }
        // Not parseable: take the authority-looking part by hand, still without userinfo, path or query.
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        return rest.isEmpty ? "(no host in URL)" : SecretMasker.maskURLPasswords(String(rest))
    }
}

/// Time spent in each phase, in milliseconds from the start of the transfer.
public struct HTTPTimings: Sendable, Codable, Equatable {
    public var dnsMs: Double
    public var connectMs: Double
    public var tlsMs: Double
    public var firstByteMs: Double
    public var totalMs: Double
}

/// The peer's leaf certificate as curl reports it.
public struct PeerCertificate: Sendable, Equatable {
    public var subject: String
    public var issuer: String
    public var notAfter: Date?

    public func daysLeft(now: Date = Date()) -> Double? {
        notAfter.map { $0.timeIntervalSince(now) / 86400 }
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// The response's header fields, in order. Parsed from the received header block when read, not
    /// per response: a replay reads them only for the 429s whose Retry-After it honours.
    public var headers: [(name: String, value: String)] {
        get { parsedHeaders ?? Self.parseHeaders(headerBlock) }
        set { parsedHeaders = newValue }
    }
    public var body: [UInt8]
    public var bodyTruncated: Bool
    public var timings: HTTPTimings
    public var certificate: PeerCertificate?
    public var effectiveURL: String
    /// The last header block as received (status line, fields, CRLFs).
    private var headerBlock: [UInt8]
    private var parsedHeaders: [(name: String, value: String)]?

    init(status: Int, headerBlock: [UInt8], body: [UInt8], bodyTruncated: Bool, timings: HTTPTimings,
         certificate: PeerCertificate?, effectiveURL: String) {
        self.status = status
        self.headerBlock = headerBlock
        self.body = body
        self.bodyTruncated = bodyTruncated
        self.timings = timings
        self.certificate = certificate
        self.effectiveURL = effectiveURL
    }

    /// The fields of a header block: every line after the status line that has a colon.
    static func parseHeaders(_ block: [UInt8]) -> [(name: String, value: String)] {
        // Lines end in CRLF: split on either byte.
        block.split(whereSeparator: { $0 == 0x0A || $0 == 0x0D }).dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
            return (trimmingOWS(line[..<colon]), trimmingOWS(line[line.index(after: colon)...]))
        }
    }


    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// First header with this name (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// The body parsed as JSON, or nil when it is not JSON.
    public var json: Any? {
        guard !body.isEmpty else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
    }
}

/// Why a request did not produce a response. `description` names the host and the next thing to check.
public struct HTTPError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case invalidURL, dns, connect, tls, certificate, timeout, cancelled, transfer
        /// libcurl could not be loaded (opsctl loads it on first use).
        case library
    }

    public var kind: Kind
    public var host: String
    /// libcurl's CURLcode, kept for diagnostics.
    public var curlCode: Int
    public var detail: String

    public var description: String {
        let advice: String
        switch kind {
        case .invalidURL: advice = "check the URL (scheme://host[:port]/path)"
        case .dns: advice = "check the host name and DNS"
        case .connect: advice = "is the service running and listening on that port? check firewall rules"
        case .tls: advice = "check the TLS setup (protocol, SNI, proxy)"
        case .certificate: advice = "the certificate is expired, self-signed or for another name: renew it, or pass --insecure only if you trust this host"
        case .timeout: advice = "the host did not answer in time: check load and network, or raise the timeout"
        case .cancelled: advice = "the request was stopped by opsctl (step timeout or interrupt)"
        case .transfer: advice = "the transfer failed midway: retry, and check the service logs"
        case .library: advice = "no request can be made until libcurl is installed"
        }
        return SecretMasker.shared.mask("\(host): \(detail) (curl \(curlCode)); \(advice)")
    }
}

/// Drops HTTP's optional whitespace (SP, HTAB) and line ends around a header name or value given as
/// UTF-8 bytes (a received header line, or a caller's header name). Byte-wise: Foundation's
/// trimmingCharacters was a sixth of a replay's client CPU.
func trimmingOWS<Bytes: BidirectionalCollection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    func isOWS(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }
    guard let first = bytes.firstIndex(where: { !isOWS($0) }), let last = bytes.lastIndex(where: { !isOWS($0) }) else {
        return ""
    }
    return String(decoding: bytes[first...last], as: UTF8.self)
}
