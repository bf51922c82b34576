/// Line and error counts per time window, epoch-aligned. With an automatic width it starts
/// at one second; any width coarsens exactly (along a ladder of round widths, or by doubling)
/// whenever more than `maxKept` windows accumulate, so memory stays bounded whatever the
/// time span of the logs.
struct WindowCounter {
    /// Round widths in seconds; each divides the next, so re-binning is exact.
    static let ladder: [Int64] = [1, 5, 10, 30, 60, 300, 900, 1800, 3600, 10800, 21600, 43200, 86400, 604_800]
    static let maxKept = 20_000

    private(set) var widthMs: Int64
    let automatic: Bool
    private(set) var counts: [Int64: (count: Int, errors: Int)] = [:]
    private var pendingKey = Int64.min
    private var pendingCount = 0
    private var pendingErrors = 0

    init(widthSeconds: Double?) {
        if let w = widthSeconds, w > 0 {
            widthMs = max(1, Int64((w * 1000).rounded()))
            automatic = false
        } else {
            widthMs = 1000
            automatic = true
        }
    }

    @inline(__always)
    mutating func add(_ timeMs: Int64, error: Bool) {
        add(timeMs, count: 1, errors: error ? 1 : 0)
    }

    /// Counts `count` lines of the window holding `timeMs` (a run the scanner counted).
    @inline(__always)
    mutating func add(_ timeMs: Int64, count: Int, errors: Int) {
        var key = Self.floorDiv(timeMs, widthMs)
        if key != pendingKey {
            let width = widthMs
            flush()
            // Flushing may have coarsened the windows: the key must be in the new width.
            if widthMs != width { key = Self.floorDiv(timeMs, widthMs) }
            pendingKey = key
        }
        pendingCount += count
        pendingErrors += errors
    }

    mutating func flush() {
        guard pendingCount > 0 else { return }
        let e = counts[pendingKey, default: (0, 0)]
        counts[pendingKey] = (e.count + pendingCount, e.errors + pendingErrors)
        pendingCount = 0
        pendingErrors = 0
        // Bounded memory for any span: coarsen (exactly) when too many windows accumulate; the
        // report's width says what was used.
        if counts.count > Self.maxKept { rebin(to: Self.coarser(than: widthMs)) }
    }

    /// The next ladder width when the current one divides it, otherwise twice the width.
    static func coarser(than widthMs: Int64) -> Int64 {
        if let next = ladder.first(where: { $0 * 1000 > widthMs }), (next * 1000) % widthMs == 0 { return next * 1000 }
        return widthMs * 2
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    mutating func rebin(to newWidthMs: Int64) {
        flush()
        guard newWidthMs != widthMs else { return }
        var out: [Int64: (count: Int, errors: Int)] = [:]
        for (k, v) in counts {
            let nk = Self.floorDiv(k * widthMs, newWidthMs)
            let e = out[nk, default: (0, 0)]
            out[nk] = (e.count + v.count, e.errors + v.errors)
        }
        counts = out
        widthMs = newWidthMs
        pendingKey = Int64.min
    }

    mutating func merge(_ other: WindowCounter) {
        var other = other
        flush()
        other.flush()
        if other.widthMs > widthMs { rebin(to: other.widthMs) } else if other.widthMs < widthMs { other.rebin(to: widthMs) }
        for (k, v) in other.counts {
            let e = counts[k, default: (0, 0)]
            counts[k] = (e.count + v.count, e.errors + v.errors)
        }
    }

    /// Dense windows from the first to the last, after choosing the automatic width.
    mutating func finish(maxWindows: Int) -> (widthSeconds: Double, windows: [(startMs: Int64, count: Int, errors: Int)]) {
        flush()
        guard let lo = counts.keys.min(), let hi = counts.keys.max() else { return (Double(widthMs) / 1000, []) }
        if automatic {
            let spanMs = (hi - lo + 1) * widthMs
            let w = Self.ladder.first { $0 * 1000 >= widthMs && spanMs / ($0 * 1000) < Int64(maxWindows) } ?? Self.ladder.last!
            rebin(to: w * 1000)
        }
        let first = counts.keys.min()!, last = counts.keys.max()!
        // A wide span at a fixed width could ask for millions of bars: only the ones with data are listed then.
        let dense = last - first < 100_000
        let keys = dense ? Array(first...last) : counts.keys.sorted()
        let windows = keys.map { k -> (startMs: Int64, count: Int, errors: Int) in
            let v = counts[k] ?? (0, 0)
            return (k * widthMs, v.count, v.errors)
        }
        return (Double(widthMs) / 1000, windows)
    }
}
