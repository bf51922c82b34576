import Foundation

/// Latency quantiles in bounded memory. Integer-valued fields (milliseconds, as loggers write them)
/// are counted per value, which is exact whatever the number of lines: a dense array for 0…65,535
/// and a table for other integers, up to `sparseLimit` distinct values. A fractional value, or more
/// distinct integers than that, switches to samples: exact (nearest rank over every sample) up to
/// `exactLimit` samples, then a histogram of logarithmic buckets 1 % wide, whose answers are within
/// ±0.5 % of the true quantile (bucket midpoints, clamped to the exact min/max).
struct LatencyDigest {
    static let ratio = 1.01
    static let minValue = 1e-3
    static let buckets = 2800
    /// Integers 0..<denseLimit are counted in an array (512 KB), others in a table.
    static let denseLimit = 1 << 16
    /// Distinct integers outside the dense range counted exactly before falling back to samples.
    static let sparseLimit = 100_000
    private static let logRatio = log(ratio)

    let exactLimit: Int
    /// Every value so far was an integer and fits the counters.
    private(set) var integral = true
    private var dense: [Int] = []
    private var sparse: [Int: Int] = [:]
    private(set) var samples: [Double] = []
    private(set) var histogram: [Int]? = nil
    private(set) var count = 0
    private(set) var sum = 0.0
    private(set) var minimum = Double.infinity
    private(set) var maximum = -Double.infinity

    init(exactLimit: Int) { self.exactLimit = exactLimit }

    @inline(__always)
    mutating func add(_ v: Double) {
        guard v.isFinite else { return }
        count += 1
        sum += v
        if v < minimum { minimum = v }
        if v > maximum { maximum = v }
        if integral {
            if v >= 0 && v < Double(Self.denseLimit) && v == v.rounded(.towardZero) {
                if dense.isEmpty { dense = [Int](repeating: 0, count: Self.denseLimit) }
                dense[Int(v)] += 1
                return
            }
            if v == v.rounded(.towardZero) && abs(v) < 9e15 {
                sparse[Int(v), default: 0] += 1
                if sparse.count > Self.sparseLimit { leaveIntegral() }
                return
            }
            leaveIntegral()
        }
        addSample(v, times: 1)
    }

    /// Adds integer values counted elsewhere: `counts[v]` occurrences of each v in 0..<limit (limit ≤ denseLimit).
    mutating func add(integerCounts counts: UnsafePointer<UInt64>, limit: Int) {
        for v in 0..<min(limit, Self.denseLimit) where counts[v] != 0 {
            let n = Int(counts[v]), d = Double(v)
            count += n
            sum += d * Double(n)
            if d < minimum { minimum = d }
            if d > maximum { maximum = d }
            if integral {
                if dense.isEmpty { dense = [Int](repeating: 0, count: Self.denseLimit) }
                dense[v] += n
            } else {
                addSample(d, times: n)
            }
        }
    }

    private mutating func addSample(_ v: Double, times: Int) {
        if histogram != nil {
            histogram![Self.bucket(v)] += times
        } else {
            for _ in 0..<times { samples.append(v) }
            if samples.count > exactLimit { spill() }
        }
    }

    /// The integer counts as (value, count) pairs in ascending order.
    private var integerCounts: [(value: Int, count: Int)] {
        var out: [(Int, Int)] = []
        let keys = sparse.keys.sorted()
        for k in keys where k < 0 { out.append((k, sparse[k]!)) }
        for (v, c) in dense.enumerated() where c > 0 { out.append((v, c)) }
        for k in keys where k >= 0 { out.append((k, sparse[k]!)) }
        return out
    }

    /// Moves the integer counts into samples (or the histogram when there are too many).
    private mutating func leaveIntegral() {
        guard integral else { return }
        integral = false
        let counts = integerCounts
        dense = []
        sparse = [:]
        if counts.reduce(0, { $0 + $1.count }) > exactLimit { histogram = [Int](repeating: 0, count: Self.buckets) }
        for (v, c) in counts { addSample(Double(v), times: c) }
    }

    static func bucket(_ v: Double) -> Int {
        guard v > minValue else { return 0 }
        return min(buckets - 1, 1 + Int(log(v / minValue) / logRatio))
    }

    static func representative(_ b: Int) -> Double {
        b == 0 ? 0 : minValue * pow(ratio, Double(b - 1) + 0.5)
    }

    private mutating func spill() {
        var h = [Int](repeating: 0, count: Self.buckets)
        for v in samples { h[Self.bucket(v)] += 1 }
        histogram = h
        samples = []
    }

    mutating func merge(_ other: LatencyDigest) {
        count += other.count
        sum += other.sum
        minimum = min(minimum, other.minimum)
        maximum = max(maximum, other.maximum)
        if integral && other.integral {
            if !other.dense.isEmpty {
                if dense.isEmpty { dense = other.dense } else { for i in 0..<Self.denseLimit { dense[i] += other.dense[i] } }
            }
            for (k, c) in other.sparse { sparse[k, default: 0] += c }
            if sparse.count > Self.sparseLimit { leaveIntegral() }
            return
        }
        var other = other
        other.leaveIntegral()
        leaveIntegral()
        if histogram == nil && other.histogram == nil && samples.count + other.samples.count <= exactLimit {
            samples += other.samples
            return
        }
        if histogram == nil { spill() }
        if let oh = other.histogram {
            for i in 0..<Self.buckets { histogram![i] += oh[i] }
        } else {
            for v in other.samples { histogram![Self.bucket(v)] += 1 }
        }
    }

    var isExact: Bool { integral || histogram == nil }

    /// Quantiles by nearest rank: the smallest value with at least q·n samples at or below it.
    func quantiles(_ qs: [Double]) -> [Double] {
        guard count > 0 else { return qs.map { _ in 0 } }
        if integral {
            let counts = integerCounts
            return qs.map { q in
                let rank = Self.rank(q, count)
                var seen = 0
                for (v, c) in counts {
                    seen += c
                    if seen >= rank { return Double(v) }
                }
                return maximum
            }
        }
        if let histogram {
            return qs.map { q in
                let rank = Self.rank(q, count)
                var seen = 0
                for (i, c) in histogram.enumerated() {
                    seen += c
                    if seen >= rank { return min(maximum, max(minimum, Self.representative(i))) }
                }
                return maximum
            }
        }
        let sorted = samples.sorted()
        return qs.map { q in sorted[min(sorted.count, Self.rank(q, sorted.count)) - 1] }
    }

    /// ceil(q·n) in integer arithmetic (q in thousandths), so 0.95 × 100 is 95, not 96.
    static func rank(_ q: Double, _ n: Int) -> Int {
        let permille = Int((q * 1000).rounded())
        return max(1, (permille * n + 999) / 1000)
    }
}
