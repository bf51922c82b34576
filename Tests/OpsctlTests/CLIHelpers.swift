import Foundation
import Support
import TestSupport

/// A scratch project directory with runbooks, opsctl.yaml and an isolated journal location.
final class Project: @unchecked Sendable {
    let dir = TemporaryDirectory()
    var env: [String: String]

    init(databaseURL: String? = nil) {
        env = ["XDG_STATE_HOME": dir.path + "/state", "USER": "tester"]
        env["DATABASE_URL"] = databaseURL ?? "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"
    }

    @discardableResult
    func file(_ name: String, _ content: String) throws -> String { try dir.write(name, content) }

    func opsctl(_ args: [String], env extra: [String: String] = [:], timeout: Double = 120) throws -> ProcessOutput {
        try Opsctl.run(args, env: env.merging(extra) { $1 }, directory: dir.path, timeout: timeout)
    }

    /// Starts opsctl without waiting (for kill -9 and lock tests).
    func spawn(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Opsctl.binary)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        var e = ProcessInfo.processInfo.environment
        e["NO_COLOR"] = "1"
        for (k, v) in env { e[k] = v }
        p.environment = e
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// The id of the run `history` shows as interrupted, once it does: a run killed with SIGKILL is
    /// marked interrupted when its lock's session ends. Nil when none shows up in time.
    func interruptedRunID() -> String? {
        var runID: String?
        _ = eventually {
            let h = (try? opsctl(["history", "--format", "json"]).stdout) ?? ""
            runID = h.firstMatch(of: /"run_id" : "([^"]+)"[^}]*"status" : "interrupted"/).map { String($0.1) }
            return runID != nil
        }
        return runID
    }
}

