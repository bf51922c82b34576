import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

/// The scan's worker threads, started directly (NativeThread); `join()` returns once every body
/// has returned.
///
/// Through `DispatchQueue.global()` the first worker began 1.3–3.5 ms after the analysis started: the
/// first async of a process sets up libdispatch's root queues (a manager thread, epoll, a timerfd, the
/// pool monitor reading /proc) and the manager thread then creates the workers. Created here, a
/// worker is running a few tens of µs later, while the reading thread is still mapping the file.
///
/// A body reports itself done, after dropping what it captured (the worker's state then belongs to the
/// merge alone: merged in place, not copied on write), before its thread exits: the threads are
/// detached, and their exit (stack freed) overlaps the merge instead of preceding it as a join would.
final class ScanThreads: @unchecked Sendable {
    private final class Body: @unchecked Sendable {
        var run: (() -> Void)?
        let owner: ScanThreads
        init(_ run: @escaping () -> Void, owner: ScanThreads) {
            self.run = run
            self.owner = owner
        }

        func runOnce() {
            run?()
            run = nil
            owner.finished()
        }
    }

    private let condition = NSCondition()
    private var running = 0

    /// Starts one thread running `body` (on libdispatch if no thread can be created).
    func start(_ body: @escaping @Sendable () -> Void) {
        condition.lock()
        running += 1
        condition.unlock()
        let box = Body(body, owner: self)
        if let thread = NativeThread.start({ box.runOnce() }) {
            pthread_detach(thread)
        } else {
            DispatchQueue.global().async { box.runOnce() }
        }
    }

    private func finished() {
        condition.lock()
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until every started body has returned.
    func join() {
        condition.lock()
        while running > 0 { condition.wait() }
        condition.unlock()
    }
}
