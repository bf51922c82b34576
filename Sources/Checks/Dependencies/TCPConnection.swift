import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

/// A TCP connection for dependency checks that only connect (`tcp.connect`) or speak a small
/// line protocol (`redis.ping`). Every wait is bounded by a deadline and sliced so a cancelled
/// step stops within a tenth of a second; opsctl's HTTP stack (libcurl) has no raw-socket mode.
final class TCPConnection {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// `host:port` as a person reads it (`[::1]:6379` for IPv6).
    let peer: String
    let resolveMs: Double
    let connectMs: Double
    private let fd: Int32
    private let cancellation: Cancellation
    private var buffer: [UInt8] = []

    /// Resolves `host` and connects to the first address that answers before `timeout` seconds.
    init(host: String, port: Int, timeout: Double, cancellation: Cancellation) throws {
        self.cancellation = cancellation
        let deadline = Date().addingTimeInterval(timeout)
        let resolveStart = Date()
        let addresses = try DNSLookup.addresses(host: host, port: port, timeout: timeout)
        resolveMs = Date().timeIntervalSince(resolveStart) * 1000
        var lastError = "no address for \(host)"
        for address in addresses {
            let connectStart = Date()
            let fd = socket(address.family, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { lastError = String(cString: strerror(errno)); continue }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
            let rc = address.storage.withUnsafeBytes { raw in
                Glibc.connect(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), address.length)
            }
            if rc != 0 && errno != EINPROGRESS {
                lastError = "\(address.text): \(String(cString: strerror(errno)))"
                close(fd)
                continue
            }
            do {
                if rc != 0 {
                    try Self.wait(fd, for: Int16(POLLOUT), until: deadline, cancellation: cancellation, what: "connecting to \(address.text)")
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                    if error != 0 { throw Failure("\(address.text): \(String(cString: strerror(error)))") }
                }
            } catch let failure as Failure {
                lastError = failure.description
                close(fd)
                if Date() >= deadline || cancellation.isCancelled { break }
                continue
            }
            self.fd = fd
            peer = address.text
            connectMs = Date().timeIntervalSince(connectStart) * 1000
            return
        }
        throw Failure(lastError)
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8], deadline: Date) throws {
        var sent = 0
        while sent < bytes.count {
            try Self.wait(fd, for: Int16(POLLOUT), until: deadline, cancellation: cancellation, what: "sending to \(peer)")
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw Failure("\(peer): \(String(cString: strerror(errno)))")
            }
            sent += n
        }
    }

    /// One CRLF- or LF-terminated line, without the terminator.
    func readLine(deadline: Date, limit: Int = 64 * 1024) throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard buffer.count < limit else { throw Failure("\(peer): a reply line longer than \(limit) bytes") }
            try Self.wait(fd, for: Int16(POLLIN), until: deadline, cancellation: cancellation, what: "waiting for \(peer) to answer")
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { throw Failure("\(peer) closed the connection") }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw Failure("\(peer): \(String(cString: strerror(errno)))")
            }
            buffer += chunk[..<n]
        }
    }

    /// Polls in slices of 100 ms so cancellation (a step timeout, Ctrl-C) is noticed promptly.
    private static func wait(_ fd: Int32, for events: Int16, until deadline: Date, cancellation: Cancellation, what: String) throws {
        while true {
            if cancellation.isCancelled { throw Failure("cancelled while \(what)") }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { throw Failure("timed out \(what)") }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&descriptor, 1, Int32(min(left, 0.1) * 1000) + 1)
            if n > 0 { return }
            if n < 0 && errno != EINTR { throw Failure("\(what): \(String(cString: strerror(errno)))") }
        }
    }
}

/// Splits `host:port`, `[v6]:port` or a URL (`redis://h:6379`, `https://h`) into host and port.
enum Endpoint {
    static func parse(_ text: String, defaultPort: Int?) -> (host: String, port: Int)? {
        if text.contains("://"), let url = URLComponents(string: text), let host = url.host, !host.isEmpty {
            let schemePorts = ["http": 80, "https": 443, "redis": 6379, "rediss": 6380, "postgres": 5432, "postgresql": 5432]
            guard let port = url.port ?? schemePorts[url.scheme?.lowercased() ?? ""] ?? defaultPort else { return nil }
            return (host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
        }
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { return defaultPort.map { (host, $0) } }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (1...65535).contains(port) else { return nil }
            return (host, port)
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2 {
            guard !parts[0].isEmpty, let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
            return (String(parts[0]), port)
        }
        guard parts.count == 1, !text.isEmpty, let defaultPort else { return nil }
        return (text, defaultPort)
    }
}
