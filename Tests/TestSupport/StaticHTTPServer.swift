import Foundation

/// A real HTTP server, python3's http.server, serving files from a temporary directory on a port
/// the kernel picked (no collisions between parallel tests). Ready when `init` returns.
public final class StaticHTTPServer: @unchecked Sendable {
    public let root = TemporaryDirectory()
    public let port: Int
    private let process = Process()

    /// `files`: path under the root → content, e.g. `["api/health": #"{"status":"healthy"}"#]`.
    public init(files: [String: String]) throws {
        for (path, content) in files { _ = try root.write(path, content) }
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", root.path]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        ChildReaper.shared.track(process.processIdentifier)
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..." comes once the socket listens.
        var text = ""
        while !text.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let match = text.firstMatch(of: /port (\d+)/), let port = Int(match.1) else {
            process.terminate()
            throw StartFailure(description: "python3 -m http.server did not start: \(text)")
        }
        self.port = port
    }

    public func url(_ path: String = "") -> String { "http://127.0.0.1:\(port)/" + path }

    deinit {
        // SIGKILL: the test runner's threads block SIGTERM, and a child spawned from one inherits that.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        ChildReaper.shared.forget(process.processIdentifier)
    }
}
