import Foundation

/// Lets the executor (SIGINT/SIGTERM, timeouts, deadlines) stop running work from another thread: each
/// blocking resource (query, transfer, child process) registers how to abort itself, and loops poll
/// `isCancelled` between units of work. Lives in Support so engines below Checks (Migrations) take it too.
public final class Cancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var handlers: [() -> Void] = []
    private var cancelled = false
    private var why: String?

    public init() {}

    public var isCancelled: Bool { lock.withLock { cancelled } }
    /// Why it was cancelled ("interrupted by SIGINT"), once it is.
    public var reason: String? { lock.withLock { why } }

    /// Registers an abort action; runs it at once if already cancelled.
    public func onCancel(_ handler: @escaping () -> Void) {
        let runNow: Bool = lock.withLock {
            if cancelled { return true }
            handlers.append(handler)
            return false
        }
        if runNow { handler() }
    }

    public func cancel(reason: String) {
        let toRun: [() -> Void] = lock.withLock {
            guard !cancelled else { return [] }
            cancelled = true
            why = reason
            defer { handlers = [] }
            return handlers
        }
        toRun.forEach { $0() }
    }
}
