import Foundation

/// Kills the servers a test process started (services, fixture HTTP servers) when it exits, so
/// none outlives the run — a static fixture is never deinitialised.
public final class ChildReaper: @unchecked Sendable {
    public static let shared = ChildReaper()
    private let lock = NSLock()
    private var pids: Set<Int32> = []

    private init() {
        atexit {
            for pid in ChildReaper.shared.lock.withLock({ ChildReaper.shared.pids }) { kill(pid, SIGKILL) }
        }
    }

    public func track(_ pid: Int32) { lock.withLock { _ = pids.insert(pid) } }
    public func forget(_ pid: Int32) { lock.withLock { _ = pids.remove(pid) } }
}
