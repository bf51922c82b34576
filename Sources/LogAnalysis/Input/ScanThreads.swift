import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The scan's worker threads, started directly with pthread_create and joined at the end.
///
/// Through `DispatchQueue.global()` the first worker began 1.3–3.5 ms after the analysis started: the
/// first async of a process sets up libdispatch's root queues (a manager thread, epoll, a timerfd, the
/// pool monitor reading /proc) and the manager thread then creates the workers. Created here, a
/// worker is running a few tens of µs later, while the reading thread is still mapping the file.
final class ScanThreads {
    private final class Body: @unchecked Sendable {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    private var threads: [pthread_t] = []
    /// Workers that could not get a thread of their own (pthread_create failed) run on libdispatch.
    private let fallback = DispatchGroup()

    /// Starts one thread running `body`.
    func start(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { context in
            Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        if rc == 0 {
            threads.append(thread)
        } else {
            Unmanaged<Body>.fromOpaque(context).release()
            DispatchQueue.global().async(group: fallback, execute: body)
        }
    }

    /// Waits for every started body to return.
    func join() {
        for t in threads { pthread_join(t, nil) }
        threads.removeAll()
        fallback.wait()
    }
}
