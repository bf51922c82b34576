import Foundation

/// Runs work that recurses once per nesting level of its input (libpg_query's parse-tree output:
/// `SELECT 1+1+…` with 10k terms is 10k levels deep) on a thread with a large stack, and waits for it.
/// Steps and tests run on threads with small stacks (512 KB), where such input used to end in SIGSEGV.
/// The stack is reserved address space; memory is only used as deep as the recursion goes.
///
/// Threads of the default size are kept and reused: one `migrate apply` parses every migration (a
/// thread each cost ~60 µs of clone, mmap, mprotect and munmap, 400 of them for 200 small files).
/// Callers in parallel (the linter) each get their own thread; at most `maxIdle` wait for more work.
public enum DeepStack {
    public static let defaultBytes = 512 * 1024 * 1024
    static let maxIdle = 8

    public static func run<T>(stackBytes: Int = defaultBytes, _ body: @escaping () -> T) -> T {
        var result: T?
        let job = Job { result = body() }
        if stackBytes == defaultBytes {
            guard let worker = Pool.shared.take() ?? Worker.spawn(stackBytes: stackBytes) else { return body() }
            worker.run(job)
            Pool.shared.give(worker)
            return result!
        }
        guard runOnNewThread(stackBytes: stackBytes, job) else { return body() } // no thread (resource limits): run here
        return result!
    }

    /// Runs `job` on a new thread with `stackBytes` of stack and waits; false when no thread could be made.
    private static func runOnNewThread(stackBytes: Int, _ job: Job) -> Bool {
        guard let thread = NativeThread.start(stackBytes: stackBytes, job.run) else { return false }
        pthread_join(thread, nil)
        return true
    }

    private final class Job: @unchecked Sendable {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// A deep-stack thread that runs one job at a time, handed over through semaphores (which also
    /// order the job's writes before the caller's reads). A nil job ends the thread.
    private final class Worker: @unchecked Sendable {
        private let start = DispatchSemaphore(value: 0)
        private let done = DispatchSemaphore(value: 0)
        private var job: Job?

        static func spawn(stackBytes: Int) -> Worker? {
            let worker = Worker()
            guard let thread = NativeThread.start(stackBytes: stackBytes, { worker.loop() }) else { return nil }
            pthread_detach(thread)
            return worker
        }

        func run(_ job: Job) {
            self.job = job
            start.signal()
            done.wait()
        }

        func stop() {
            job = nil
            start.signal()
        }

        private func loop() {
            while true {
                start.wait()
                guard let job else { return }
                job.run()
                self.job = nil
                done.signal()
            }
        }
    }

    private final class Pool: @unchecked Sendable {
        static let shared = Pool()
        private let lock = NSLock()
        private var idle: [Worker] = []

        func take() -> Worker? { lock.withLock { idle.popLast() } }

        func give(_ worker: Worker) {
            let kept = lock.withLock { () -> Bool in
                guard idle.count < DeepStack.maxIdle else { return false }
                idle.append(worker)
                return true
            }
            if !kept { worker.stop() }
        }
    }
}
