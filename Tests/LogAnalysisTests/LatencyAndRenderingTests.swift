import Foundation
import Testing
@testable import LogAnalysis

@Suite struct LatencyAndRenderingTests {
    @Test func exactQuantilesUseNearestRank() {
        var d = LatencyDigest(exactLimit: 1_000)
        for v in 1...100 { d.add(Double(v)) }
        #expect(d.quantiles([0.5, 0.95, 0.99]) == [50, 95, 99])
    }

    @Test func histogramStaysWithinHalfAPercent() {
        var exact = LatencyDigest(exactLimit: 1_000_000)
        var bounded = LatencyDigest(exactLimit: 1_000)
        var x: UInt64 = 7
        for _ in 0..<100_000 {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let v = Double(x >> 40 % 5_000) / 3 + 1
            exact.add(v)
            bounded.add(v)
        }
        #expect(!bounded.isExact)
        for (a, b) in zip(exact.quantiles([0.5, 0.95, 0.99]), bounded.quantiles([0.5, 0.95, 0.99])) {
            #expect(abs(a - b) / a <= 0.005 + 1e-9)
        }
    }

    @Test func mergeKeepsExactnessWhileSmall() {
        var a = LatencyDigest(exactLimit: 10), b = LatencyDigest(exactLimit: 10)
        for v in 1...5 { a.add(Double(v)); b.add(Double(v + 5)) }
        a.merge(b)
        #expect(a.isExact)
        #expect(a.quantiles([0.5]) == [5])
    }

    /// Integer-valued latencies (what loggers write) are counted per value: exact quantiles far past
    /// the sample limit, and across a merge, with negative and large values in the right order.
    @Test func integerLatenciesStayExactPastTheSampleLimit() {
        var a = LatencyDigest(exactLimit: 1_000), b = LatencyDigest(exactLimit: 1_000)
        var all: [Double] = []
        var x: UInt64 = 11
        for i in 0..<200_000 {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let v = i % 1000 == 0 ? Double(Int(x >> 44) - 100_000) : Double(x >> 50)
            all.append(v)
            if i % 2 == 0 { a.add(v) } else { b.add(v) }
        }
        a.merge(b)
        #expect(a.isExact)
        let sorted = all.sorted()
        let qs = [0.001, 0.5, 0.95, 0.99, 1.0]
        #expect(a.quantiles(qs) == qs.map { sorted[LatencyDigest.rank($0, sorted.count) - 1] })
    }

    @Test func aFractionalLatencyLeavesTheIntegerCounts() {
        var d = LatencyDigest(exactLimit: 1_000)
        for v in 1...100 { d.add(Double(v)) }
        d.add(0.5)
        #expect(d.isExact)
        #expect(d.quantiles([0.001, 0.5]) == [0.5, 50])
        var big = LatencyDigest(exactLimit: 1_000)
        for v in 0..<5_000 { big.add(Double(v)) }
        big.add(2.5)
        #expect(!big.isExact) // past the sample limit: the ±0.5 % histogram answers
        #expect(abs(big.quantiles([0.5])[0] - 2_500) / 2_500 <= 0.005 + 1e-9)
    }

    @Test func tooManyDistinctIntegersFallBackToTheHistogram() {
        var d = LatencyDigest(exactLimit: 1_000)
        for v in 0...LatencyDigest.sparseLimit { d.add(Double(100_000 + v * 3)) }
        #expect(!d.isExact)
        #expect(d.count == LatencyDigest.sparseLimit + 1)
    }

    @Test func sparkline() {
        #expect(LogReport.sparkline([0, 1, 2, 3, 4, 5, 6, 7, 8]) == " ▁▂▃▄▅▆▇█")
        #expect(LogReport.sparkline([5, 5]) == "██")
        #expect(LogReport.sparkline(Array(repeating: 1, count: 100), width: 10).count == 10)
    }

    @Test func textReportShowsTotalsSparklineAndTopFingerprints() throws {
        let c = Corpus.pino(lines: 600)
        let file = TempFile(c.text)
        let r = try analyze([file.path]) { $0.latencyField = "duration_ms"; $0.groupBy = "route" }
        let text = r.renderText()
        #expect(text.contains("600 lines, 600 analysed"))
        #expect(text.contains("Error rate: "))
        #expect(text.contains("payment failed for customer <email>: card declined (code <num>)"))
        #expect(text.contains { "▁▂▃▄▅▆▇█".contains($0) })
        #expect(text.contains("By route:"))
        let json = try r.jsonText()
        #expect(json.contains("\"top_fingerprints\""))
        #expect(json.contains("\"error_rate\""))
    }

    /// The hand-written timestamp text equals what the C formatter gives, around epoch, leap days,
    /// negative offsets and the four-digit-year edges.
    @Test func isoTimestampsMatchTheFormatter() {
        let samples: [Int64] = [0, 1, 999, 1_000, -1, -1_001, 951_782_400_000, 1_767_225_600_037, 4_102_444_799_999,
                                253_402_300_799_999, 253_402_300_800_000, -62_167_219_200_001]
        for ms in samples {
            let secs = WindowCounter.floorDiv(ms, 1000)
            var t = time_t(secs)
            var parts = tm()
            gmtime_r(&t, &parts)
            let reference = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                                   Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(ms - secs * 1000))
            #expect(LogTime.iso(ms: ms) == reference, "ms \(ms)")
        }
        #expect(LogTime.iso(ms: 1_767_225_600_037) == "2026-01-01T00:00:00.037Z")
    }

    @Test func jsonWindowsCarryTheirStartAsISOText() throws {
        let c = Corpus.pino(lines: 600)
        let file = TempFile(c.text)
        let r = try analyze([file.path]) { $0.window = 60 }
        let json = try r.jsonText(pretty: false)
        guard let first = r.windows.first else { Issue.record("no windows"); return }
        let start = Int64((first.start.timeIntervalSince1970 * 1000).rounded())
        #expect(json.contains("{\"count\":\(first.count),\"errors\":\(first.errors),\"start\":\"\(LogTime.iso(ms: start))\"}"))
    }
}
