import Foundation
import HTTP
import Testing

@Suite("HTTP TLS verification and peer certificates")
struct TLSTests {
    @Test func selfSignedIsRejectedByDefault() throws {
        let s = try server()
        let error = try #require(httpError { _ = try HTTPClient().send(HTTPRequest(url: s.validTLS + "/text")) })
        #expect(error.kind == .certificate)
        #expect(error.host == "localhost:\(s.validTLSPort)")
        #expect(error.description.contains("localhost:\(s.validTLSPort)"))
        #expect(error.description.contains("self-signed"))
        #expect(error.description.contains("--insecure"))
    }

    @Test func insecureIsExplicitAndPasses() throws {
        let r = try HTTPClient().send(HTTPRequest(url: try server().validTLS + "/text", insecure: true))
        #expect(r.status == 200)
        #expect(r.bodyText.hasPrefix("hello"))
    }

    @Test func trustingTheCertificatePasses() throws {
        let s = try server()
        var request = HTTPRequest(url: s.validTLS + "/text")
        request.caFile = s.validCertificate
        #expect(try HTTPClient().send(request).status == 200)
    }

    @Test func expiredCertificateIsReportedAsExpired() throws {
        let s = try server()
        var request = HTTPRequest(url: s.expiredTLS + "/text")
        request.caFile = s.expiredCertificate
        let error = try #require(httpError { _ = try HTTPClient().send(request) })
        #expect(error.kind == .certificate)
        #expect(error.detail.contains("expired"), "trusted, so the only complaint left is the date: \(error.detail)")
        #expect(error.description.contains("localhost:\(s.expiredTLSPort)"))
    }

    @Test func peerCertificateIsCaptured() throws {
        let s = try server()
        let r = try HTTPClient().send(HTTPRequest(url: s.validTLS + "/text", insecure: true, captureCertificate: true))
        let cert = try #require(r.certificate)
        #expect(cert.subject.contains("CN = localhost") || cert.subject.contains("CN=localhost"))
        #expect(cert.subject.contains("opsctl tests"))
        #expect(cert.issuer == cert.subject, "self-signed")
        let days = try #require(cert.daysLeft())
        #expect(days > 28 && days <= 30.01)
    }

    @Test func expiredPeerCertificateIsCapturedWithItsDate() throws {
        let s = try server()
        let r = try HTTPClient().send(HTTPRequest(url: s.expiredTLS + "/text", insecure: true, captureCertificate: true))
        let cert = try #require(r.certificate)
        #expect(cert.subject.contains("expired.localhost"))
        // notAfter 2020-01-02 00:00:00 GMT (a single-digit day: OpenSSL pads it with a space).
        #expect(cert.notAfter == Date(timeIntervalSince1970: 1_577_923_200))
        #expect((cert.daysLeft() ?? 0) < 0)
    }

    @Test("the certificate is captured on every request, also over a reused connection")
    func certificateOnReusedConnection() throws {
        let s = try server()
        let client = HTTPClient()
        for _ in 0..<3 {
            let r = try client.send(HTTPRequest(url: s.validTLS + "/text", insecure: true, captureCertificate: true))
            #expect(r.certificate != nil)
        }
    }

    @Test func noCertificateUnlessAsked() throws {
        let r = try HTTPClient().send(HTTPRequest(url: try server().validTLS + "/text", insecure: true))
        #expect(r.certificate == nil)
        let plain = try HTTPClient().send(HTTPRequest(url: try server().base + "/text", captureCertificate: true))
        #expect(plain.certificate == nil)
    }
}
