import Foundation
import HTTP
import Support
import Testing

/// Bad input gets its own one-line error naming the host, and never shows a secret.
@Suite("HTTP errors")
struct ErrorTests {
    static let tokenCanary = "canary-token-Zx81Qw"

    @Test func connectionRefused() throws {
        let error = try #require(httpError { _ = try HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:1/health")) })
        #expect(error.kind == .connect)
        #expect(error.host == "127.0.0.1:1")
        #expect(error.description.hasPrefix("127.0.0.1:1: "))
        #expect(error.description.contains("listening"))
        #expect(!error.description.contains("\n"))
    }

    @Test func unknownHost() throws {
        let error = try #require(httpError {
            // Generous: a resolver that does not answer at once must still end in a DNS error, not a timeout.
            _ = try HTTPClient().send(HTTPRequest(url: "https://nonexistent.invalid/health", timeout: 60,
                                                  connectTimeout: 60))
        })
        #expect(error.kind == .dns)
        #expect(error.host == "nonexistent.invalid")
        #expect(error.description.contains("nonexistent.invalid"))
        #expect(error.description.contains("DNS"))
    }

    @Test("malformed URLs", arguments: [
        "not a url", "", "ftp://example.com/file", "http://", "http:///path", "://host/x", "http://exa mple.com/",
        "localhost:8080/health", "http://[::1/", "http://host:99999999/",
    ])
    func malformedURL(url: String) throws {
        let error = try #require(httpError { _ = try HTTPClient().send(HTTPRequest(url: url)) })
        #expect(error.kind == .invalidURL, "\(error)")
        #expect(error.description.contains("check the URL"))
        #expect(!error.description.contains("\n"))
    }

    @Test func malformedURLNamesItsHost() throws {
        let error = try #require(httpError { _ = try HTTPClient().send(HTTPRequest(url: "http://exa mple.com/path")) })
        #expect(error.kind == .invalidURL)
        #expect(error.description.contains("exa mple.com"))
    }

    @Test("a secret in a header never appears in an error", arguments: [
        "http://127.0.0.1:1/x", "https://nonexistent.invalid/x", "not a url",
    ])
    func headerTokenIsNotLeaked(url: String) throws {
        let request = HTTPRequest(url: url, headers: [("Authorization", "Bearer \(Self.tokenCanary)"),
                                                      ("X-Api-Key", Self.tokenCanary)], timeout: 5)
        let error = try #require(httpError { _ = try HTTPClient().send(request) })
        for text in [error.description, "\(error)", String(reflecting: error), error.detail, error.host] {
            #expect(!text.contains(Self.tokenCanary), "leaked: \(text)")
        }
    }

    @Test("a secret in the URL never appears in an error", arguments: [
        "http://user:\(ErrorTests.tokenCanary)@127.0.0.1:1/x",
        "http://127.0.0.1:1/x?token=\(ErrorTests.tokenCanary)",
        "http://user:\(ErrorTests.tokenCanary)@exa mple.com/x",
        "http://exa mple.com/x?token=\(ErrorTests.tokenCanary)",
        "http://exa mple.com/x#\(ErrorTests.tokenCanary)",
        "https://user:\(ErrorTests.tokenCanary)@nonexistent.invalid/x",
    ])
    func urlSecretIsNotLeaked(url: String) throws {
        let error = try #require(httpError { _ = try HTTPClient().send(HTTPRequest(url: url, timeout: 5)) })
        for text in [error.description, "\(error)", String(reflecting: error), error.detail, error.host] {
            #expect(!text.contains(Self.tokenCanary), "leaked: \(text)")
        }
    }

    @Test func tlsFailureIsOneLine() throws {
        let error = try #require(httpError { _ = try HTTPClient().send(HTTPRequest(url: try server().expiredTLS + "/")) })
        #expect(error.kind == .certificate)
        #expect(!error.description.contains("\n"))
    }

    @Test func plainHTTPToATLSPortIsATransferOrTLSError() throws {
        let s = try server()
        let error = httpError { _ = try HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(s.validTLSPort)/", timeout: 3)) }
        #expect(error != nil)
        #expect(error?.description.contains("127.0.0.1:\(s.validTLSPort)") == true)
    }

    @Test func tlsToAPlainHTTPPortIsATLSError() throws {
        let s = try server()
        let error = try #require(httpError {
            _ = try HTTPClient().send(HTTPRequest(url: "https://127.0.0.1:\(s.httpPort)/", timeout: 5))
        })
        #expect(error.kind == .tls)
        #expect(error.description.contains("127.0.0.1:\(s.httpPort)"))
    }

    @Test func missingCAFileIsACertificateError() throws {
        var request = HTTPRequest(url: try server().validTLS + "/text")
        request.caFile = "/nonexistent/opsctl-ca.pem"
        let error = try #require(httpError { _ = try HTTPClient().send(request) })
        #expect(error.kind == .certificate)
    }

    @Test func hostForMessagesDropsUserinfoPathAndQuery() {
        #expect(HTTPRequest(url: "https://u:p@example.com:8443/a?b=c").hostForMessages == "example.com:8443")
        #expect(HTTPRequest(url: "https://example.com/a").hostForMessages == "example.com")
        #expect(HTTPRequest(url: "http://u:p@exa mple.com:80/a?t=x").hostForMessages == "exa mple.com:80")
        #expect(HTTPRequest(url: "").hostForMessages == "(no host in URL)")
    }
}
