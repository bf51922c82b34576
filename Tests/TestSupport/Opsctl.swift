import Foundation
import Support

/// Runs the built `opsctl` binary (beside the test bundle in .build/<config>/) as a user would.
public enum Opsctl {
    public static var binary: String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // The test bundle lives in .build/<triple>/<config>/; opsctl is beside it.
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("opsctl").path
    }

    /// Runs opsctl with arguments; `env` is added to the current environment.
    @discardableResult
    public static func run(_ arguments: [String], env: [String: String] = [:], stdin: String? = nil,
                           directory: String? = nil, timeout: Double = 120) throws -> ProcessOutput {
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        for (k, v) in env { environment[k] = v }
        return try ProcessRunner.run([binary] + arguments, environment: environment, directory: directory,
                                     stdin: stdin, timeout: timeout)
    }
}

/// A temporary directory removed at deinit.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init() {
        let base = NSTemporaryDirectory() + "opsctl-test-" + UUID().uuidString.prefix(8)
        try? FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    public func write(_ name: String, _ content: String) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try content.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
