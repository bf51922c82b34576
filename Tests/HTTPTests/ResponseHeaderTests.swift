import Foundation
@testable import HTTP
import Testing

/// Response headers are kept as received and parsed when read (a replay reads them only for a 429's
/// Retry-After): what a reader gets must be exactly what the server sent, on both client paths.
@Suite("HTTP response headers, parsed when read")
struct ResponseHeaderTests {
    static let date = "Wed, 21 Oct 2026 07:28:00 GMT"

    func url(_ s: TestServer, _ code: Int, _ headers: [String]) -> String {
        s.base + "/status/\(code)?" + headers.map { "header=" + $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }
            .joined(separator: "&")
    }

    @Test func aRefusalsRetryAfterIsReadExactly() throws {
        let s = try server()
        let seconds = try HTTPClient().send(HTTPRequest(url: url(s, 429, ["Retry-After:7", "X-Limit: 10 per second "])))
        #expect(seconds.status == 429)
        #expect(seconds.header("retry-after") == "7")
        #expect(seconds.header("X-Limit") == "10 per second")
        // A date is a value with colons and spaces: only the first colon separates the name.
        let dated = try HTTPClient().send(HTTPRequest(url: url(s, 503, ["Retry-After:" + Self.date])))
        #expect(dated.status == 503)
        #expect(dated.header("Retry-After") == Self.date)
    }

    @Test func theMultiClientsResponsesCarryTheirOwnHeaders() throws {
        let s = try server()
        var seen: [Int: String] = [:]
        var index = 0
        MultiClient(concurrency: 4).run(next: { () -> (Int, HTTPRequest)? in
            guard index < 40 else { return nil }
            defer { index += 1 }
            // Every fourth a 429 with its own Retry-After; the others a 200 without one.
            return (index, HTTPRequest(url: index % 4 == 0 ? url(s, 429, ["Retry-After:\(index)"]) : s.base + "/text"))
        }, completed: { i, result in
            switch result {
            case let .success(response): seen[i] = response.header("retry-after") ?? "absent"
            case let .failure(error): seen[i] = "failed: \(error)"
            }
        })
        #expect(seen.count == 40)
        for i in 0..<40 {
            #expect(seen[i] == (i % 4 == 0 ? "\(i)" : "absent"), "request \(i)")
        }
    }

    @Test func headersParseInOrderAndSkipTheStatusLine() {
        let block = Array("HTTP/1.1 429 Too Many Requests\r\nRetry-After:  12 \r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nBroken line\r\n\r\n".utf8)
        let headers = HTTPResponse.parseHeaders(block)
        #expect(headers.map(\.name) == ["Retry-After", "Set-Cookie", "Set-Cookie"])
        #expect(headers.map(\.value) == ["12", "a=1", "b=2"])
    }

    @Test func headersSetByTheCallerReplaceTheReceivedOnes() throws {
        var r = try HTTPClient().send(HTTPRequest(url: try server().base + "/text"))
        #expect(r.header("x-fixture") == "text")
        r.headers = [("X-Own", "1")]
        #expect(r.header("x-fixture") == nil)
        #expect(r.header("x-own") == "1")
    }
}
