import Foundation
import Support

/// A test stand-in (Python fixture, redis-server, static HTTP server, TLS test server) that did not come up.
public struct StartFailure: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// A Python stand-in from Tests/Fixtures/services that prints its port when ready (`{"port": N}`, see
/// fixture_server.py) and serves on loopback until killed (on release, or when its stdin closes).
public final class PythonFixture: @unchecked Sendable {
    public let port: Int
    private let process = Process()
    private let stdin = Pipe()

    public init(script: String, arguments: [String] = [], environment: [String: String] = [:]) throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/services/" + script).path
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", path] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = output
        process.standardInput = stdin
        process.standardError = FileHandle.nullDevice
        try process.run()
        ChildReaper.shared.track(process.processIdentifier)
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let json = (try? JSONSerialization.jsonObject(with: line)) as? [String: Int]
        guard let port = json?["port"] else {
            kill(process.processIdentifier, SIGKILL)
            throw StartFailure(description: "\(script) did not start (it needs python3 and the packages scripts/install-deps.sh installs): '\(text)'")
        }
        self.port = port
    }

    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)" + path }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        ChildReaper.shared.forget(process.processIdentifier)
    }
}

/// The stand-in for a service's external APIs (dependency_api.py): a bearer-authenticated API with
/// rate-limit headers, a Shopify-style token API and Statuspage pages.
public final class DependencyAPIServer: @unchecked Sendable {
    private let fixture: PythonFixture
    public var port: Int { fixture.port }

    public init(bearer: String, shopifyToken: String) throws {
        fixture = try PythonFixture(script: "dependency_api.py", environment: ["EXPECTED_BEARER": bearer, "EXPECTED_SHOPIFY": shopifyToken])
    }

    public func url(_ path: String) -> String { fixture.url(path) }
}

/// A real redis-server on a free loopback port, requiring a password, persisting nothing.
///
/// When redis-server is not installed the suites using it are skipped with the install hint,
/// except under CI=true, where they run and fail.
public final class RedisServer: @unchecked Sendable {
    public let port: Int
    private let process = Process()
    private let directory = TemporaryDirectory()

    public static let executable = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Whether the suites that need redis-server run at all.
    public static var shouldRun: Bool {
        if executable != nil || ProcessInfo.processInfo.environment["CI"] == "true" { return true }
        FileHandle.standardError.write(Data("SKIPPED redis.ping suites: redis-server is not installed; install it with: apt-get install redis-server (scripts/install-deps.sh)\n".utf8))
        return false
    }

    public init(password: String) throws {
        guard let executable = Self.executable else {
            throw StartFailure(description: "redis-server is required (CI=true) but not installed; install it with: apt-get install redis-server")
        }
        // redis-server cannot pick its own port and report it: take a free one from the kernel, then start.
        let port = try freeLoopbackPort()
        self.port = port
        // The password goes in through a config file on stdin (`-`), so it is not in `ps`.
        let config = """
            port \(port)
            bind 127.0.0.1
            save ""
            appendonly no
            dir \(directory.path)
            requirepass "\(password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))"

            """
        let input = Pipe()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-"]
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        ChildReaper.shared.track(process.processIdentifier)
        input.fileHandleForWriting.write(Data(config.utf8))
        try input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(20)
        while !Self.accepts(port) {
            guard Date() < deadline, process.isRunning else {
                kill(process.processIdentifier, SIGKILL)
                throw StartFailure(description: "redis-server did not start listening on 127.0.0.1:\(port)")
            }
            usleep(20_000)
        }
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        ChildReaper.shared.forget(process.processIdentifier)
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// A free TCP port on 127.0.0.1 (bound once, then released for the caller to use).
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw StartFailure(description: "no free port: \(String(cString: strerror(errno)))") }
    return Int(UInt16(bigEndian: address.sin_port))
}
