import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

/// getaddrinfo(3) — the resolver the service itself uses (nsswitch, /etc/hosts, resolv.conf) — with
/// a deadline: getaddrinfo has none, so it runs on its own thread and a late answer is abandoned.
enum DNSLookup {
    struct Address: Sendable {
        var family: Int32
        var storage: [UInt8]
        var length: socklen_t
        /// The numeric address (`127.0.0.1`, `::1`).
        var host: String
        /// `127.0.0.1:6379` or `[::1]:6379`.
        var text: String
    }

    enum Family: String, Sendable { case any, ipv4, ipv6 }

    private final class Box: @unchecked Sendable {
        var result: Result<[Address], TCPConnection.Failure>?
    }

    static func addresses(host: String, port: Int? = nil, family: Family = .any, timeout: Double) throws -> [Address] {
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = lookup(host: host, port: port, family: family)
            done.signal()
        }
        thread.start()
        guard done.wait(timeout: .now() + timeout) == .success, let result = box.result else {
            throw TCPConnection.Failure("\(host) did not resolve within \(DurationText.format(milliseconds: timeout * 1000))")
        }
        return try result.get()
    }

    private static func lookup(host: String, port: Int?, family: Family) -> Result<[Address], TCPConnection.Failure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = family == .ipv4 ? AF_INET : family == .ipv6 ? AF_INET6 : AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, port.map(String.init), &hints, &list)
        guard rc == 0 else {
            let reason = rc == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(rc))
            return .failure(.init("cannot resolve \(host): \(reason)"))
        }
        defer { freeaddrinfo(list) }
        var out: [Address] = []
        var next = list
        while let entry = next?.pointee {
            next = entry.ai_next
            guard let sockaddrPointer = entry.ai_addr else { continue }
            var name = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            guard getnameinfo(sockaddrPointer, entry.ai_addrlen, &name, socklen_t(name.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
            let numeric = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let bytes = Array(UnsafeRawBufferPointer(start: sockaddrPointer, count: Int(entry.ai_addrlen)))
            let shown = entry.ai_family == AF_INET6 ? "[\(numeric)]" : numeric
            let address = Address(family: entry.ai_family, storage: bytes, length: entry.ai_addrlen, host: numeric,
                                  text: port.map { "\(shown):\($0)" } ?? numeric)
            if !out.contains(where: { $0.text == address.text }) { out.append(address) }
        }
        return out.isEmpty ? .failure(.init("\(host) has no address")) : .success(out)
    }
}
