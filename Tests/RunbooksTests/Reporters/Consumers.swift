import Foundation
import Support
import TestSupport

/// A real program that reads one of our formats. Tests run it as a subprocess; when it is
/// missing they are skipped with the install hint, except with CI=true, where they run and fail.
struct Consumer: Sendable {
    let name: String
    let install: String
    let isInstalled: Bool

    init(name: String, probe: [String], install: String) {
        self.name = name
        self.install = install
        isInstalled = (try? ProcessRunner.run(probe, timeout: 60).exitCode) == 0
        if !isInstalled, !Self.onCI {
            FileHandle.standardError.write(Data("SKIPPED \(name) checks: \(name) is not installed; install it with: \(install)\n".utf8))
        }
    }

    static var onCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Whether a test that needs this consumer runs at all.
    var shouldRun: Bool { isInstalled || Self.onCI }

    /// Throws the install hint when the consumer is missing (the CI=true path).
    func require() throws {
        guard isInstalled else { throw MissingConsumer(name: name, install: install) }
    }

    static let promtool = Consumer(name: "promtool", probe: ["promtool", "--version"],
                                   install: "apt-get install prometheus   (Debian's prometheus package ships promtool)")
    static let prove = Consumer(name: "prove", probe: ["prove", "--version"],
                                install: "apt-get install perl   (prove and TAP::Parser come with Test::Harness)")
    static let junitparser = Consumer(name: "junitparser", probe: ["python3", "-c", "import junitparser"],
                                      install: "python3 -m pip install junitparser")
}

struct MissingConsumer: Error, CustomStringConvertible {
    let name: String
    let install: String
    var description: String { "\(name) is required to validate this format (CI=true) but is not installed; install it with: \(install)" }
}

/// Runs a consumer on a file holding `content`.
func runConsumer(_ arguments: [String], file name: String, content: String,
                 in directory: TemporaryDirectory = TemporaryDirectory()) throws -> ProcessOutput {
    let path = try directory.write(name, content)
    return try ProcessRunner.run(arguments.map { $0 == "{}" ? path : $0 }, timeout: 120)
}
