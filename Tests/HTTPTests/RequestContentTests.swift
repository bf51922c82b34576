import Foundation
@testable import HTTP
import Testing

/// A transfer keeps its request body and header lines in buffers of its own, reused from request to
/// request: a request after a longer one (more headers, a bigger body) must carry only its own.
@Suite("HTTP request content on reused transfers")
struct RequestContentTests {
    @Test func eachRequestCarriesExactlyItsOwnBodyAndHeaders() throws {
        let s = try server()
        // One connection and handle (concurrency 1): each request reuses the previous one's buffers.
        let sizes = [5000, 3, 0, 70_000, 17, 1]
        let headerCounts = [6, 1, 0, 3, 9, 2]
        var results: [Int: [String: Any]] = [:]
        var index = 0
        MultiClient(concurrency: 1).run(next: { () -> (Int, HTTPRequest)? in
            guard index < sizes.count else { return nil }
            defer { index += 1 }
            let body = String(repeating: Character(UnicodeScalar(UInt8(97 + index))), count: sizes[index])
            let headers = (0..<headerCounts[index]).map { (name: "X-H\($0)", value: "r\(index)-\($0)") }
            return (index, HTTPRequest(method: "POST", url: s.base + "/echo", headers: headers, body: body))
        }, completed: { i, result in
            results[i] = (try? result.get())?.json as? [String: Any]
        })
        for i in sizes.indices {
            let echo = try #require(results[i], "request \(i) got no echo")
            #expect((echo["body"] as? String)?.count == sizes[i], "request \(i)")
            #expect((echo["body"] as? String)?.allSatisfy { $0 == Character(UnicodeScalar(UInt8(97 + i))) } == true)
            let headers = echo["headers"] as? [String: String] ?? [:]
            let own = headers.filter { $0.key.hasPrefix("x-h") }
            #expect(own == Dictionary(uniqueKeysWithValues: (0..<headerCounts[i]).map { ("x-h\($0)", "r\(i)-\($0)") }), "request \(i): \(own)")
            #expect(headers["content-length"] == "\(sizes[i])")
        }
    }

    @Test func aNulCannotCutAHeaderLineShort() throws {
        let r = try HTTPClient().send(HTTPRequest(url: try server().base + "/echo", headers: [("X-Nul", "a\u{0}b"), ("X-After", "c")]))
        let headers = (r.json as? [String: Any])?["headers"] as? [String: String] ?? [:]
        #expect(headers["x-nul"] == "ab")
        #expect(headers["x-after"] == "c")
    }

    /// curl reads the proxy variables per transfer; opsctl tells it "none" up front only when none is set.
    @Test func noProxyIsForcedOnlyWhenNoProxyVariableIsSet() {
        #expect(ProxyEnvironment.noneSet(in: { _ in false }))
        for name in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] {
            #expect(!ProxyEnvironment.noneSet(in: { $0 == name }), "\(name)")
        }
        // no_proxy alone names no proxy to use.
        #expect(ProxyEnvironment.noneSet(in: { $0 == "no_proxy" || $0 == "NO_PROXY" }))
    }
}
