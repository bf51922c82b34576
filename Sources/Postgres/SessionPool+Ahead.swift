import Foundation

/// Sessions opened ahead of need, for the whole process: a command that knows it will talk to a
/// database (`migrate apply`) starts the connects while it still reads and parses its files, so the
/// backends' start-up (fork, authentication) overlaps that work instead of following it. Any pool's
/// `take` hands them out once its own idle sessions are gone (waiting for a connect still under way:
/// it is further along than a new one would be); a connect that failed is forgotten (whoever needs a
/// session then opens one and reports the error). `closeOpenedAhead()` closes the ones nobody took.
extension PostgresSessionPool {
    private static let ahead = OpenedAhead()

    /// Starts opening `count` sessions to `dsn` on a thread of their own; `open` connects one (and sets
    /// it up as its users expect).
    public static func openAhead(_ dsn: String, count: Int, _ open: @escaping @Sendable () throws -> PostgresConnection) {
        for _ in 0..<count {
            let slot = ahead.add(dsn)
            let thread = Thread { slot.settle(try? open()) }
            thread.name = "opsctl.connect-ahead"
            thread.start()
        }
    }

    /// A session opened ahead to `dsn`, now the caller's (nil: none was, or its connect failed).
    public static func takeOpenedAhead(_ dsn: String) -> PostgresConnection? {
        while let slot = ahead.next(dsn) {
            if let db = slot.wait() { return db }
        }
        return nil
    }

    /// Closes the sessions opened ahead that nobody took; one still connecting is closed when it is
    /// made (never waited for: a command refusing bad input exits at once, whatever the server does).
    public static func closeOpenedAhead() {
        for slot in ahead.removeAll() { slot.abandon() }
    }
}

/// The connects started ahead, by URL, oldest first.
private final class OpenedAhead: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [String: [AheadSlot]] = [:]

    func add(_ dsn: String) -> AheadSlot {
        let slot = AheadSlot()
        lock.withLock { slots[dsn, default: []].append(slot) }
        return slot
    }

    func next(_ dsn: String) -> AheadSlot? {
        lock.withLock {
            guard var list = slots[dsn], !list.isEmpty else { return nil }
            let first = list.removeFirst()
            slots[dsn] = list.isEmpty ? nil : list
            return first
        }
    }

    func removeAll() -> [AheadSlot] {
        lock.withLock {
            defer { slots.removeAll() }
            return slots.values.flatMap { $0 }
        }
    }
}

/// One connect under way: its session (nil when it failed) once it settles.
private final class AheadSlot: @unchecked Sendable {
    private let condition = NSCondition()
    private var settled = false
    private var abandoned = false
    private var db: PostgresConnection?

    func settle(_ db: PostgresConnection?) {
        let unwanted: Bool = condition.withLock {
            self.db = db
            settled = true
            condition.broadcast()
            return abandoned
        }
        if unwanted { db?.close() }
    }

    /// Nobody will take it: closed now, or when its connect ends.
    func abandon() {
        let made: PostgresConnection? = condition.withLock {
            abandoned = true
            defer { db = nil }
            return db
        }
        made?.close()
    }

    func wait() -> PostgresConnection? {
        condition.withLock {
            while !settled { condition.wait() }
            return db
        }
    }
}
