import Foundation

/// The counts a follow's report and thresholds see: the lines that arrived in the last `window`
/// seconds, kept as `slices` scan states of `window / slices` seconds each, by arrival time (a live
/// log's own timestamps may lag, be missing or come from skewed clocks). A slice older than the
/// window is dropped whole, so memory is the slice count times what one scan state may hold (its
/// tables are capped), whatever the volume and however long the follow runs.
final class SlidingWindow {
    static let slices = 10

    let sliceMs: Int64
    let options: LogAnalysisOptions
    private(set) var ring: [(key: Int64, state: ScanState)] = []
    /// Lines of the slices already dropped.
    private(set) var droppedLines = 0

    init(window: Double, options: LogAnalysisOptions) {
        sliceMs = max(100, Int64(window * 1000) / Int64(Self.slices))
        self.options = options
    }

    /// The slice lines arriving now are counted in.
    func current(nowMs: Int64) throws -> ScanState {
        let key = nowMs / sliceMs
        if let last = ring.last, last.key == key { return last.state }
        evict(nowMs: nowMs)
        let state = try ScanState(options: options)
        ring.append((key, state))
        return state
    }

    /// Drops slices that lie wholly before the window.
    func evict(nowMs: Int64) {
        let oldest = nowMs / sliceMs - Int64(Self.slices) + 1
        while let first = ring.first, first.key < oldest {
            first.state.end()
            droppedLines += first.state.lines
            ring.removeFirst()
        }
    }

    /// The window's slices merged into one state (the slices themselves stay as they are).
    func merged(nowMs: Int64) throws -> ScanState {
        evict(nowMs: nowMs)
        let out = try ScanState(options: options)
        for slice in ring {
            slice.state.end()
            out.merge(slice.state)
        }
        return out
    }

    var linesTotal: Int { droppedLines + ring.reduce(0) { $0 + $1.state.lines } }

    /// What the slices hold: table entries, latency samples and time windows (the memory that grows with input).
    var retainedEntries: Int {
        ring.reduce(0) { sum, slice in
            let s = slice.state
            return sum + s.fingerprints.count + s.groups.count + s.latency.samples.count + s.windows.counts.count
                + s.unparsedSamples.count
        }
    }
}
