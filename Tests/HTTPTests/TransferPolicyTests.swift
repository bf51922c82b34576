import Foundation
import HTTP
import Testing

@Suite("HTTP timeouts, redirects, cancellation and timings")
struct TransferPolicyTests {
    let client = HTTPClient()

    @Test func timeoutIsAnError() throws {
        let s = try server()
        let started = Date()
        let error = try #require(httpError { _ = try client.send(HTTPRequest(url: s.base + "/slow?ms=5000", timeout: 0.3)) })
        #expect(Date().timeIntervalSince(started) < 4)
        #expect(error.kind == .timeout)
        #expect(error.host == "127.0.0.1:\(s.httpPort)")
        #expect(error.description.contains("127.0.0.1:\(s.httpPort)"))
        #expect(error.description.contains("timeout"))
    }

    @Test("timeouts that are not positive and finite mean no limit, never a crash",
          arguments: [Double.infinity, Double.nan, 0, -1, 1e300])
    func oddTimeouts(timeout: Double) throws {
        let r = try client.send(HTTPRequest(url: try server().base + "/text", timeout: timeout, connectTimeout: timeout))
        #expect(r.status == 200)
    }

    @Test func slowButWithinTimeoutSucceeds() throws {
        let r = try client.send(HTTPRequest(url: try server().base + "/slow?ms=200", timeout: 10))
        #expect(r.status == 200)
        #expect(r.timings.totalMs >= 150)
    }

    @Test func redirectsAreNotFollowedByDefault() throws {
        let r = try client.send(HTTPRequest(url: try server().base + "/redirect?to=/text"))
        #expect(r.status == 302)
        #expect(r.header("Location") == "/text")
    }

    @Test func redirectsAreFollowedWhenAsked() throws {
        let s = try server()
        let r = try client.send(HTTPRequest(url: s.base + "/redirect?to=/text", followRedirects: true))
        #expect(r.status == 200)
        #expect(r.bodyText.hasPrefix("hello"))
        #expect(r.effectiveURL == s.base + "/text")
        #expect(r.header("X-Fixture") == "text", "headers are those of the final response")
        #expect(r.header("Location") == nil)
    }

    @Test func redirectChainsAreBounded() throws {
        let s = try server()
        // /redirect -> /redirect?to=/redirect... : three hops, then /text.
        let hop3 = "/redirect?to=/text"
        let hop2 = "/redirect?to=" + hop3.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let hop1 = "/redirect?to=" + hop2.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let ok = try client.send(HTTPRequest(url: s.base + hop1, followRedirects: true, maxRedirects: 5))
        #expect(ok.status == 200)
        let error = try #require(httpError {
            _ = try client.send(HTTPRequest(url: s.base + hop1, followRedirects: true, maxRedirects: 1))
        })
        #expect(error.description.contains("127.0.0.1:\(s.httpPort)"))
    }

    @Test("a followed 302 after a POST does not re-POST the body")
    func postRedirectBecomesGet() throws {
        let s = try server()
        let r = try client.send(HTTPRequest(method: "POST", url: s.base + "/redirect?to=/echo",
                                            headers: [], body: Array("payload".utf8), followRedirects: true))
        #expect(r.status == 200)
        #expect(r.object["method"] as? String == "GET")
    }

    @Test func cancelFromAnotherThreadAbortsASlowRequest() throws {
        let s = try server()
        let client = self.client
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { client.cancel() }
        let started = Date()
        let error = try #require(httpError { _ = try client.send(HTTPRequest(url: s.base + "/slow?ms=20000", timeout: 60)) })
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(error.kind == .cancelled)
        #expect(error.description.contains("127.0.0.1:\(s.httpPort)"))
        #expect(try client.send(HTTPRequest(url: s.base + "/text")).status == 200, "usable after a cancel")
    }

    @Test("a cancel() that arrives just before send() still stops that request")
    func cancelBeforeSend() throws {
        let s = try server()
        let client = HTTPClient()
        client.cancel()
        let started = Date()
        let error = try #require(httpError { _ = try client.send(HTTPRequest(url: s.base + "/slow?ms=20000", timeout: 60)) })
        #expect(error.kind == .cancelled)
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(try client.send(HTTPRequest(url: s.base + "/text")).status == 200, "the cancel is used up")
    }

    @Test func plainHTTPTimingsArePresentAndOrdered() throws {
        let r = try HTTPClient().send(HTTPRequest(url: try server().base + "/slow?ms=50"))
        let t = r.timings
        #expect(t.dnsMs >= 0)
        #expect(t.connectMs >= t.dnsMs)
        #expect(t.tlsMs == 0)
        #expect(t.firstByteMs >= t.connectMs)
        #expect(t.firstByteMs >= 40)
        #expect(t.totalMs >= t.firstByteMs)
    }

    @Test func tlsTimingsArePresentAndOrdered() throws {
        let r = try HTTPClient().send(HTTPRequest(url: try server().validTLS + "/text", insecure: true))
        let t = r.timings
        #expect(t.connectMs >= t.dnsMs)
        #expect(t.tlsMs > 0)
        #expect(t.tlsMs >= t.connectMs)
        #expect(t.firstByteMs >= t.tlsMs)
        #expect(t.totalMs >= t.firstByteMs)
    }
}
