import Foundation

/// `work(i)` for every i in 0..<count over the cores, results in index order: one worker per core
/// (never more than `count`), each taking the next index until none is left, so a slow item does not
/// hold back a fixed share of the rest. `worker` runs each worker's loop: the parser hands it to a
/// deep-stack thread, once per worker rather than once per item. Nil only for an index no worker
/// reached, which does not happen.
func onEveryCore<T>(_ count: Int, worker: @escaping @Sendable (@escaping () -> Void) -> Void = { $0() },
                    _ work: @escaping @Sendable (Int) -> T) -> [T?] {
    let results = ParallelResults<T>(count: count)
    let queue = WorkCounter(count)
    let workers = min(count, max(1, ProcessInfo.processInfo.activeProcessorCount))
    if workers > 0 {
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            worker {
                while let i = queue.next() { results.set(i, work(i)) }
            }
        }
    }
    return (0..<count).map { results[$0] }
}

/// Results filled by concurrent workers, one slot each.
final class ParallelResults<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [T?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ value: T) { lock.withLock { slots[i] = value } }
    subscript(_ i: Int) -> T? { lock.withLock { slots[i] } }
}

/// Hands out 0, 1, 2, … up to a count to concurrent workers.
final class WorkCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var taken = 0
    private let count: Int

    init(_ count: Int) { self.count = count }

    func next() -> Int? {
        lock.withLock {
            guard taken < count else { return nil }
            defer { taken += 1 }
            return taken
        }
    }
}
