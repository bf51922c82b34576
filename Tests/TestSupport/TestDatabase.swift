import Foundation
import Postgres

/// The live Postgres every database suite uses: one sandbox per test run (started on first use,
/// reused across runs), one fresh database per suite.
///
/// With CI=true a sandbox that cannot start is a test failure, never a silent skip.
public enum TestDatabase {
    public static let sandbox = Sandbox(
        directory: ProcessInfo.processInfo.environment["OPSCTL_TEST_SANDBOX_DIR"] ?? "/tmp/opsctl-test-\(getuid())",
        port: Int(ProcessInfo.processInfo.environment["OPSCTL_TEST_SANDBOX_PORT"] ?? "") ?? 55433)

    private static let startup: Result<String, Error> = {
        do { return .success(try sandbox.up()) } catch { return .failure(error) }
    }()

    /// True when the sandbox is up (or CI demands it: then tests run and fail loudly).
    public static var available: Bool {
        if case .success = startup { return true }
        if ProcessInfo.processInfo.environment["CI"] == "true" { return true }
        FileHandle.standardError.write(Data("SKIPPED live Postgres suites: \(unavailableReason)\n".utf8))
        return false
    }

    public static var unavailableReason: String {
        if case let .failure(error) = startup { return "sandbox could not start: \(error)" }
        return ""
    }

    private static let counter = Counter()

    /// A new, empty database for one suite; returns its URL.
    public static func fresh(_ label: String) throws -> String {
        _ = try startup.get()
        let safe = label.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        let name = "t_\(String(safe).prefix(40))_\(getpid())_\(counter.next())"
        return try sandbox.createDatabase(name)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}
