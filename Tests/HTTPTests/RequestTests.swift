import Foundation
import HTTP
import Testing

@Suite("HTTP requests against the fixture server")
struct RequestTests {
    let client = HTTPClient()

    @Test func getTextWithResponseHeaders() throws {
        let s = try server()
        let r = try client.send(HTTPRequest(url: s.base + "/text"))
        #expect(r.status == 200)
        #expect(r.bodyText == "hello from the opsctl test server\n")
        #expect(r.header("x-fixture") == "text")
        #expect(r.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(r.header("content-length") == "34")
        #expect(r.headers.allSatisfy { !$0.name.contains("\r") && !$0.value.contains("\r") })
        #expect(r.effectiveURL == s.base + "/text")
        #expect(!r.bodyTruncated)
    }

    @Test("methods, headers and body reach the server", arguments: ["POST", "PUT", "PATCH", "DELETE"])
    func methodsWithBody(method: String) throws {
        let s = try server()
        let request = HTTPRequest(method: method, url: s.base + "/echo",
                                  headers: [("X-Request-Id", "abc-123"), ("Content-Type", "application/json")],
                                  body: #"{"hello":"world"}"#)
        let r = try client.send(request)
        #expect(r.status == 200)
        let echo = r.object
        #expect(echo["method"] as? String == method)
        #expect(echo["body"] as? String == #"{"hello":"world"}"#)
        let headers = echo["headers"] as? [String: String] ?? [:]
        #expect(headers["x-request-id"] == "abc-123")
        #expect(headers["content-type"] == "application/json")
        #expect(headers["content-length"] == "17")
        #expect(headers["expect"] == nil)
        #expect(headers["user-agent"]?.hasPrefix("opsctl/") == true)
    }

    @Test func getSendsNoBody() throws {
        let r = try client.send(HTTPRequest(url: try server().base + "/echo?x=1", headers: [("Accept", "application/json")]))
        #expect(r.object["method"] as? String == "GET")
        #expect(r.object["path"] as? String == "/echo?x=1")
        #expect(r.object["body"] as? String == "")
        #expect((r.object["headers"] as? [String: String])?["accept"] == "application/json")
    }

    @Test("POST and PUT without a body send an empty one", arguments: ["POST", "PUT"])
    func emptyBody(method: String) throws {
        let r = try client.send(HTTPRequest(method: method, url: try server().base + "/echo"))
        #expect(r.status == 200)
        #expect(r.object["method"] as? String == method)
        #expect((r.object["headers"] as? [String: String])?["content-length"] == "0")
    }

    @Test func binaryBodyIsSentExactly() throws {
        let bytes: [UInt8] = [0x00, 0x01, 0x7f, 0x0a, 0x0d, 0x00, 0x41]
        let r = try client.send(HTTPRequest(method: "POST", url: try server().base + "/echo", body: bytes))
        #expect((r.object["headers"] as? [String: String])?["content-length"] == "7")
    }

    @Test func largeBodyIsSent() throws {
        let body = String(repeating: "0123456789", count: 200_000)
        let r = try client.send(HTTPRequest(method: "PUT", url: try server().base + "/echo", body: body))
        #expect((r.object["body"] as? String)?.count == body.count)
    }

    @Test func headHasHeadersButNoBody() throws {
        let r = try client.send(HTTPRequest(method: "HEAD", url: try server().base + "/text"))
        #expect(r.status == 200)
        #expect(r.body.isEmpty)
        #expect(r.header("Content-Length") == "34")
    }

    @Test("status codes are responses, not errors", arguments: [200, 201, 204, 301, 400, 404, 418, 500, 503])
    func statusCodes(code: Int) throws {
        let r = try client.send(HTTPRequest(url: try server().base + "/status/\(code)"))
        #expect(r.status == code)
    }

    @Test func jsonBody() throws {
        let payload = #"{"status":"healthy","checks":{"db":"ok"},"version":3}"#
        let url = try server().base + "/json?body=" + payload.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let r = try client.send(HTTPRequest(url: url))
        #expect(r.header("content-type") == "application/json")
        #expect(r.object["status"] as? String == "healthy")
        #expect(r.object["version"] as? Int == 3)
    }

    @Test func bodyThatIsNotJSON() throws {
        let r = try client.send(HTTPRequest(url: try server().base + "/text"))
        #expect(r.json == nil)
        let empty = try client.send(HTTPRequest(url: try server().base + "/status/204"))
        #expect(empty.json == nil)
    }

    @Test func bigBodies() throws {
        let r = try client.send(HTTPRequest(url: try server().base + "/big?bytes=5000000"))
        #expect(r.body.count == 5_000_000)
        #expect(!r.bodyTruncated)
        #expect(r.body.allSatisfy { $0 == UInt8(ascii: "x") })
    }

    @Test func bodiesBeyondTheLimitAreCutAndFlagged() throws {
        let r = try client.send(HTTPRequest(url: try server().base + "/big?bytes=100000", maxBodyBytes: 1000))
        #expect(r.status == 200)
        #expect(r.body.count == 1000)
        #expect(r.bodyTruncated)
    }

    @Test func clientIsReusableAcrossRequests() throws {
        let s = try server()
        for i in 0..<20 {
            let r = try client.send(HTTPRequest(url: s.base + "/status/\(200 + i % 3)"))
            #expect(r.status == 200 + i % 3)
        }
        // A failed request leaves the client usable.
        _ = httpError { _ = try client.send(HTTPRequest(url: "http://127.0.0.1:1/")) }
        #expect(try client.send(HTTPRequest(url: s.base + "/text")).status == 200)
    }

    @Test func headerValuesCannotInjectHeaders() throws {
        let r = try client.send(HTTPRequest(url: try server().base + "/echo",
                                            headers: [("X-Note", "a\r\nX-Injected: yes"), ("X-Bad\r\nX-Injected2", "v")]))
        let headers = r.object["headers"] as? [String: String] ?? [:]
        #expect(headers["x-injected"] == nil)
        #expect(headers["x-injected2"] == nil)
        #expect(headers["x-note"] == "aX-Injected: yes")
    }

    @Test func emptyHeaderValueIsSent() throws {
        let r = try client.send(HTTPRequest(url: try server().base + "/echo", headers: [("X-Empty", "")]))
        #expect((r.object["headers"] as? [String: String])?["x-empty"] == "")
    }
}
