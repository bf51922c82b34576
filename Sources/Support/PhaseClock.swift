import Foundation

/// A timeline of one process for performance work: with `OPSCTL_PHASES=1` in the environment, each
/// `PhaseClock.mark("files parsed")` writes `phase <ms since the first mark> <wall ns> <thread> <what>`
/// to stderr (the wall clock in ns lets a script line the marks up with its own clock and the process
/// start). Off (the default) a mark is one load of a constant: free on every path that carries one.
public enum PhaseClock {
    public static let enabled = DiagnosticSwitch.isOn("OPSCTL_PHASES")
    private static let origin = DispatchTime.now().uptimeNanoseconds
    private static let lock = NSLock()

    @inline(__always)
    public static func mark(_ what: @autoclosure () -> String) {
        guard enabled else { return }
        write(what())
    }

    private static func write(_ what: String) {
        let start = origin   // (set on the first mark: read before the clock, or the subtraction underflows)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let wall = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
        let line = "phase " + String(format: "%9.3f", elapsed) + " \(wall) \(Thread.isMainThread ? "main" : "t" + String(UInt(pthread_self()) % 99991)) \(what)\n"
        lock.withLock { FileHandle.standardError.write(Data(line.utf8)) }
    }
}
