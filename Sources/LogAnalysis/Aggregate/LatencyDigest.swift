import Foundation

/// Latency quantiles in bounded memory: exact (nearest rank over every sample) up to
/// `exactLimit` samples, then a histogram of logarithmic buckets 1 % wide, whose answers
/// are within ±0.5 % of the true quantile (bucket midpoints, clamped to the exact min/max).
struct LatencyDigest {
    static let ratio = 1.01
    static let minValue = 1e-3
    static let buckets = 2800
    private static let logRatio = log(ratio)

    let exactLimit: Int
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
        if histogram != nil {
            histogram![Self.bucket(v)] += 1
        } else {
            samples.append(v)
            if samples.count > exactLimit { spill() }
        }
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

    var isExact: Bool { histogram == nil }

    /// Quantiles by nearest rank: the smallest value with at least q·n samples at or below it.
    func quantiles(_ qs: [Double]) -> [Double] {
        guard count > 0 else { return qs.map { _ in 0 } }
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
