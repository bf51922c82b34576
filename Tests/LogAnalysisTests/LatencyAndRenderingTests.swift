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
}
