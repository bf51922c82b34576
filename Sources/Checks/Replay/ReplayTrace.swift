import Foundation
import Support

/// How full the send loop kept its request slots, for performance work: with `OPSCTL_TRACE_REPLAY=1`
/// a replay writes one summary to stderr as it ends — the share of the sending time spent at each
/// number of requests in flight, the mean, how often the loop had a free slot and nothing to start
/// (a round of the multi client ending early), and the time the send thread waited for the database
/// (claims, unlocks, handing a batch to the checkpoint writer). Off (the default) every probe is one
/// load of a constant: no clock is read.
struct ReplayTrace {
    static let enabled = DiagnosticSwitch.isOn("OPSCTL_TRACE_REPLAY")

    private var level = 0
    private var since: UInt64 = 0
    /// Nanoseconds spent at each number of requests in flight (index = count).
    private var atLevel: [UInt64] = []
    private var rounds = 0
    private var dryWhileFree = 0
    private var waits: [String: (count: Int, ns: UInt64, max: UInt64)] = [:]

    @inline(__always) static func now() -> UInt64 { enabled ? DispatchTime.now().uptimeNanoseconds : 0 }

    /// The number of requests in flight changes to `n`.
    @inline(__always) mutating func inFlight(_ n: Int) {
        guard Self.enabled else { return }
        record(n)
    }

    /// A round of the multi client starts (it ends once `next` returned nil and the requests in flight drained).
    @inline(__always) mutating func round() {
        guard Self.enabled else { return }
        rounds += 1
    }

    /// `next` had a free slot and nothing to start.
    @inline(__always) mutating func dry() {
        guard Self.enabled else { return }
        dryWhileFree += 1
    }

    /// The send thread waited for the database since `start` (from `ReplayTrace.now()`).
    @inline(__always) mutating func waited(_ what: StaticString, since start: UInt64) {
        guard Self.enabled else { return }
        let ns = DispatchTime.now().uptimeNanoseconds - start
        let key = "\(what)"
        var w = waits[key] ?? (0, 0, 0)
        w.count += 1
        w.ns += ns
        w.max = max(w.max, ns)
        waits[key] = w
    }

    private mutating func record(_ n: Int) {
        let t = DispatchTime.now().uptimeNanoseconds
        if since != 0 {
            if atLevel.count <= level { atLevel += Array(repeating: 0, count: level + 1 - atLevel.count) }
            atLevel[level] += t - since
        }
        since = t
        level = n
    }

    /// Writes the summary to stderr (when enabled).
    mutating func report(concurrency: Int) {
        guard Self.enabled else { return }
        record(level)
        let atLevel = atLevel
        let total = atLevel.reduce(0, +)
        guard total > 0 else { return }
        let share = { (range: ClosedRange<Int>) -> Double in
            Double(atLevel.indices.filter { range.contains($0) }.map { atLevel[$0] }.reduce(0, +)) * 100 / Double(total)
        }
        let mean = Double(atLevel.indices.map { UInt64($0) * atLevel[$0] }.reduce(0, +)) / Double(total)
        let c = concurrency
        var text = "replay trace: sending \(String(format: "%.0f", Double(total) / 1e6)) ms, mean in flight "
            + String(format: "%.1f of %d", mean, c)
        text += "; time at full \(String(format: "%.1f", share(c...max(c, atLevel.count))))%"
        text += ", \(c * 3 / 4)-\(c - 1) \(String(format: "%.1f", share((c * 3 / 4)...(c - 1))))%"
        if c >= 4 {
            text += ", \(c / 4)-\(c * 3 / 4 - 1) \(String(format: "%.1f", share((c / 4)...(c * 3 / 4 - 1))))%"
            text += ", 0-\(c / 4 - 1) \(String(format: "%.1f", share(0...(c / 4 - 1))))%"
        }
        text += "; \(rounds) rounds, nothing to start with a slot free \(dryWhileFree) times"
        for (what, w) in waits.sorted(by: { $0.key < $1.key }) {
            text += "; send thread waited for \(what) \(w.count)× \(String(format: "%.1f", Double(w.ns) / 1e6)) ms"
                + " (max \(String(format: "%.2f", Double(w.max) / 1e6)) ms)"
        }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
