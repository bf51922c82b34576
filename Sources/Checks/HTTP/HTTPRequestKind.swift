import Foundation
import HTTP
import Support

/// An HTTP request with expectations on status, JSON fields, body text and latency.
public struct HTTPRequestKind: StepKind {
    public static let name = "http.request"
    public static let summary = "Send an HTTP request; check status, JSON fields, body text and latency"
    public static let parameters: [ParameterSpec] = [
        .init("url", .string, required: true, "absolute URL, or a path relative to the environment's base_url"),
        .init("method", .string, default: "GET", "GET, HEAD, POST, PUT, PATCH, DELETE"),
        .init("headers", .map, "request headers (values may use ${env.VAR}; they are masked in output)"),
        .init("body", .any, "request body: a string, or a mapping sent as JSON"),
        .init("expect_status", .any, default: 200, "expected status code or list of codes"),
        .init("expect", .map, "JSON fields the response must have, by dotted path: { status: healthy, checks.db.ok: true }"),
        .init("contains", .string, "text the body must contain"),
        .init("latency_warn", .duration, "total time at or above which the step warns"),
        .init("latency_crit", .duration, "total time at or above which the step fails"),
        .init("timeout", .duration, default: "10s", "whole-request timeout"),
        .init("follow_redirects", .bool, default: false, "follow 3xx redirects"),
        .init("insecure", .bool, default: false, "skip TLS verification (explicitly unsafe)"),
    ]
    public static let mutates = false
    public static let example = """
        - id: health
          kind: http.request
          with:
            url: /healthz
            expect_status: 200
            expect: { status: healthy }
            latency_warn: 500ms
            latency_crit: 2s
        """

    let url: String
    let method: String
    let headers: [String: JSONValue]
    let body: JSONValue?
    let expectedStatus: [Int]
    let expectations: [String: JSONValue]
    let contains: String?
    let latency: Thresholds
    let timeout: Double
    let followRedirects: Bool
    let insecure: Bool

    public init(_ p: StepParameters) throws {
        url = try p.string("url")
        method = try p.string("method", default: "GET").uppercased()
        headers = try p.map("headers")
        body = p["body"]
        switch p["expect_status"] {
        case nil: expectedStatus = [200]
        case let .array(list)?: expectedStatus = list.compactMap(\.int)
        case let value?:
            guard let code = value.int else { throw StepError("step '\(p.stepID)': expect_status must be a status code or a list of codes") }
            expectedStatus = [code]
        }
        expectations = try p.map("expect")
        contains = try p.optionalString("contains")
        latency = try p.thresholds("latency_", durations: true)
        timeout = try p.duration("timeout", default: 10)
        followRedirects = try p.bool("follow_redirects", default: false)
        insecure = try p.bool("insecure", default: false)
    }

    func request(_ context: StepContext) throws -> HTTPRequest {
        var request = HTTPRequest(method: method, url: try context.resolve(url: url), timeout: timeout,
                                  followRedirects: followRedirects, insecure: insecure)
        request.headers = headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value.string ?? $0.value.jsonText) }
        switch body {
        case nil: break
        case let .string(text)?: request.body = Array(text.utf8)
        case let value?:
            request.body = Array(value.jsonText.utf8)
            if !headers.keys.contains(where: { $0.lowercased() == "content-type" }) {
                request.headers.append(("Content-Type", "application/json"))
            }
        }
        return request
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let request = try request(context)
        let response = try context.send(request)
        return evaluate(response, request: request)
    }

    func evaluate(_ response: HTTPResponse, request: HTTPRequest) -> StepOutcome {
        let ms = response.timings.totalMs
        var details: [String: JSONValue] = [
            "url": .string(request.url), "status_code": .int(response.status),
            "timings_ms": .object(["dns": .double(response.timings.dnsMs), "connect": .double(response.timings.connectMs),
                                   "tls": .double(response.timings.tlsMs), "first_byte": .double(response.timings.firstByteMs),
                                   "total": .double(ms)]),
        ]
        let json = JSONValue.parse(Data(response.body))
        if let json { details["body"] = json } else if !response.body.isEmpty {
            // Mask first, then cut: a token cut at 300 characters would no longer match and leak its head.
            details["body_excerpt"] = .string(String(SecretMasker.shared.mask(response.bodyText).prefix(300)))
        }
        let metrics = [latency.metric("latency", ms, unit: "ms", min: 0)]
        let where_ = "\(request.method) \(request.hostForMessages)\(URLComponents(string: request.url)?.path ?? "")"
        var problems: [String] = []
        if !expectedStatus.contains(response.status) {
            var text = "status \(response.status), expected \(expectedStatus.map(String.init).joined(separator: " or "))"
            if let status = json?["status"]?.string { text += " (body status: \(status))" }
            problems.append(text)
        }
        if !expectations.isEmpty {
            if json == nil {
                problems.append("body is not JSON (\(response.header("content-type") ?? "no content-type")), cannot check \(expectations.keys.sorted().joined(separator: ", "))")
            } else {
                for (path, expected) in expectations.sorted(by: { $0.key < $1.key }) {
                    let actual = json?.at(path: path)
                    if !Self.matches(actual, expected) {
                        problems.append("\(path) is \(actual.map { $0.string ?? $0.jsonText } ?? "missing"), expected \(expected.string ?? expected.jsonText)")
                    }
                }
            }
        }
        if let contains, !response.bodyText.contains(contains) { problems.append("body does not contain '\(contains)'") }
        if !problems.isEmpty {
            return .init(.fail, "\(where_): " + problems.joined(separator: "; "), details: details, metrics: metrics)
        }
        let status = latency.status(for: ms)
        let timing = DurationText.formatMs(ms)
        let suffix = status == .ok ? "" : " (slower than \(DurationText.formatMs(status == .fail ? latency.crit! : latency.warn!)))"
        return .init(status, "\(where_) → \(response.status) in \(timing)\(suffix)", details: details, metrics: metrics)
    }

    /// Compares a JSON value with an expectation from YAML (strings compare loosely with numbers and booleans).
    static func matches(_ actual: JSONValue?, _ expected: JSONValue) -> Bool {
        guard let actual else { return false }
        if actual == expected { return true }
        if let a = actual.string, let e = expected.string { return a == e }
        return false
    }
}

extension DurationText {
    static func formatMs(_ ms: Double) -> String { format(milliseconds: ms) }
}
