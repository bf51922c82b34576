import Foundation
import HTTP
import Support
import TestSupport

/// The fixture server (Tests/Fixtures/http/server.py) on free loopback ports: plain HTTP, HTTPS with a
/// valid self-signed certificate, HTTPS with an expired one. One per test process; it exits when this
/// process does (it serves until its stdin closes).
final class TestServer: @unchecked Sendable {
    static let shared = Result { try TestServer() }

    let httpPort: Int
    let validTLSPort: Int
    let expiredTLSPort: Int
    /// PEM files, for tests that trust the certificate explicitly.
    let validCertificate: String
    let expiredCertificate: String
    private let process: Process
    /// Our end of the server's stdin, open for the life of this process: the server exits when it closes.
    private let stdinPipe: Pipe
    private let certificates: TemporaryDirectory

    static var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/http")
    }

    private init() throws {
        certificates = TemporaryDirectory()
        let made = try ProcessRunner.run(["sh", Self.fixtures.appendingPathComponent("make-certs.sh").path, certificates.path],
                                         timeout: 60)
        guard made.exitCode == 0 else { throw StartFailure(description: "make-certs.sh failed: \(made.stderr)") }
        validCertificate = certificates.path + "/valid.pem"
        expiredCertificate = certificates.path + "/expired.pem"

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.fixtures.appendingPathComponent("server.py").path,
                             "--tls", "valid=\(certificates.path)/valid.pem,\(certificates.path)/valid.key",
                             "--tls", "expired=\(certificates.path)/expired.pem,\(certificates.path)/expired.key"]
        let stdout = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        stdinPipe = stdin

        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { throw StartFailure(description: "server.py exited before it was ready") }
            line.append(chunk)
        }
        guard let ports = try JSONSerialization.jsonObject(with: line) as? [String: Int],
              let http = ports["http"], let valid = ports["valid"], let expired = ports["expired"] else {
            throw StartFailure(description: "server.py printed \(String(decoding: line, as: UTF8.self))")
        }
        httpPort = http
        validTLSPort = valid
        expiredTLSPort = expired
    }

    var base: String { "http://127.0.0.1:\(httpPort)" }
    var validTLS: String { "https://localhost:\(validTLSPort)" }
    var expiredTLS: String { "https://localhost:\(expiredTLSPort)" }
}

/// The running fixture server (starting it on first use).
func server() throws -> TestServer { try TestServer.shared.get() }

/// The error a throwing expression raised, as an HTTPError (nil if it did not throw one).
func httpError(_ body: () throws -> Void) -> HTTPError? {
    do {
        try body()
        return nil
    } catch let error as HTTPError {
        return error
    } catch {
        return nil
    }
}

extension HTTPResponse {
    /// The body as a JSON object.
    var object: [String: Any] { (json as? [String: Any]) ?? [:] }
}
