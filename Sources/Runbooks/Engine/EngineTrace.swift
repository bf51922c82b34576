import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a step hand-over's time goes (step end -> result queued -> scheduler awake -> dependent
/// launched -> its thread running -> step start), in monotonic nanoseconds, for profiling the engine.
/// Off unless `OPSCTL_TRACE_ENGINE` names a file (or `-` for stderr); when off each probe is one load
/// of a flag. Each line: `<ns> <event> <step> <tid> <runqueue-wait-ns>`; the last field is the thread's
/// total time spent waiting for a CPU so far (from /proc/thread-self/schedstat), so a reader can tell
/// a thread that waited for a core from one that waited for the engine.
enum EngineTrace {
    static let target: String? = {
        guard let value = getenv("OPSCTL_TRACE_ENGINE") else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }()
    static let enabled = target != nil

    private static let lock = NSLock()
    nonisolated(unsafe) private static var lines: [String] = []

    /// Records `event` for `step` at the current time (no-op when tracing is off).
    @inline(__always)
    static func mark(_ event: String, _ step: String) {
        guard enabled else { return }
        record(event, step)
    }

    private static func record(_ event: String, _ step: String) {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let now = Int(ts.tv_sec) * 1_000_000_000 + Int(ts.tv_nsec)
        let line = "\(now) \(event) \(step) \(threadID()) \(runqueueWait())"
        lock.withLock { lines.append(line) }
    }

    /// The kernel's id of this thread (what perf and /proc show), from /proc/thread-self -> "PID/task/TID".
    private static func threadID() -> Int {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self") else { return -1 }
        return Int(target.split(separator: "/").last ?? "") ?? -1
    }

    /// Nanoseconds this thread has spent runnable but not running (second field of schedstat).
    private static func runqueueWait() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/thread-self/schedstat", encoding: .utf8) else { return -1 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? Int(fields[1]) ?? -1 : -1
    }

    /// Appends what was recorded to the target, after a `# run <id>` line, and forgets it (the end of a
    /// top-level run).
    static func flush(runID: String) {
        guard enabled, let target else { return }
        let text = lock.withLock { () -> String in
            defer { lines.removeAll() }
            return "# run \(runID)\n" + lines.map { $0 + "\n" }.joined()
        }
        guard !text.isEmpty else { return }
        if target == "-" {
            FileHandle.standardError.write(Data(text.utf8))
        } else if let handle = FileHandle(forWritingAtPath: target) ?? {
            _ = FileManager.default.createFile(atPath: target, contents: nil)
            return FileHandle(forWritingAtPath: target)
        }() {
            handle.seekToEndOfFile()
            handle.write(Data(text.utf8))
            try? handle.close()
        }
    }
}
