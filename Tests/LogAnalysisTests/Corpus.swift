import Foundation
@testable import LogAnalysis

/// A small pino-style corpus with its ground truth, built line by line (deterministic).
struct Corpus {
    var text = ""
    var levels: [String: Int] = [:]
    var fingerprints: [String: Int] = [:]
    var windows: [Int64: Int] = [:]      // minute start (ms) -> lines
    var routes: [String: (count: Int, errors: Int)] = [:]
    var durations: [Double] = []
    var lines = 0

    static let start: Int64 = 1_767_225_600_000 // 2026-01-01T00:00:00Z

    static let errorTemplates: [(make: @Sendable (Int) -> String, fingerprint: String)] = [
        ({ "payment failed for customer user\($0)@example.com: card declined (code \(4000 + $0 % 7))" },
         "payment failed for customer <email>: card declined (code <num>)"),
        ({ "webhook 550e8400-e29b-41d4-a716-\(String(format: "%012d", $0)) delivery failed after \($0 % 5) attempts" },
         "webhook <uuid> delivery failed after <num> attempts"),
        ({ "db timeout after \($0 * 3)ms on query 'select \($0)'" }, "db timeout after <num>ms on query <str>"),
        ({ "upstream 10.0.\($0 % 250).\($0 % 200 + 1) returned 50\($0 % 4)" }, "upstream <ip> returned <num>"),
        ({ "invoice 0x\(String($0 * 7919, radix: 16)) not found" }, "invoice <hex> not found"),
    ]

    /// `n` lines: level cycles through a fixed pattern, one line every `stepMs`.
    static func pino(lines n: Int, stepMs: Int64 = 7_000) -> Corpus {
        var c = Corpus()
        var errorCount = 0
        let pattern = [30, 30, 50, 30, 40, 20, 30, 50, 10, 30, 60, 30, 50, 30, 40]
        let names = [10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal"]
        let routeNames = ["/api/checkout", "/api/users", "/webhooks/stripe"]
        for i in 0..<n {
            let level = pattern[i % pattern.count]
            let t = start + Int64(i) * stepMs
            let route = routeNames[(i / 3) % routeNames.count]
            let duration = Double((i * 37) % 1000 + 1)
            var msg = "request \(i) completed"
            if level == 50 {
                let tpl = errorTemplates[errorCount % errorTemplates.count]
                errorCount += 1
                msg = tpl.make(i)
                c.fingerprints[tpl.fingerprint, default: 0] += 1
            } else if level == 60 {
                msg = "out of memory in worker \(i % 4)"
                c.fingerprints["out of memory in worker <num>", default: 0] += 1
            }
            c.text += #"{"level":\#(level),"time":\#(t),"pid":42,"route":"\#(route)","duration_ms":\#(Int(duration)),"msg":"\#(msg)"}"# + "\n"
            c.levels[names[level]!, default: 0] += 1
            c.windows[t / 60_000 * 60_000, default: 0] += 1
            var r = c.routes[route] ?? (0, 0)
            r.count += 1
            if level >= 50 { r.errors += 1 }
            c.routes[route] = r
            c.durations.append(duration)
            c.lines += 1
        }
        return c
    }

    var errors: Int { (levels["error"] ?? 0) + (levels["fatal"] ?? 0) }

    /// Nearest-rank quantile, the definition opsctl documents.
    func quantile(_ q: Double) -> Double {
        let sorted = durations.sorted()
        let rank = max(1, (Int((q * 1000).rounded()) * sorted.count + 999) / 1000)
        return sorted[rank - 1]
    }
}

/// A temporary file removed when the test ends.
final class TempFile {
    let path: String

    init(_ contents: Data, suffix: String = ".log") {
        path = NSTemporaryDirectory() + "opsctl-logs-" + UUID().uuidString.prefix(8) + suffix
        _ = FileManager.default.createFile(atPath: path, contents: contents)
    }

    convenience init(_ text: String, suffix: String = ".log") { self.init(Data(text.utf8), suffix: suffix) }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The same contents gzip-compressed by the real gzip.
    func gzipped() throws -> TempFile {
        let out = TempFile(Data(), suffix: ".log.gz")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "gzip -c '\(path)' > '\(out.path)'"]
        try p.run()
        p.waitUntilExit()
        return out
    }
}

func analyze(_ paths: [String], _ configure: (inout LogAnalysisOptions) -> Void = { _ in }) throws -> LogReport {
    var o = LogAnalysisOptions(now: Date(timeIntervalSince1970: Double(Corpus.start) / 1000 + 86_400))
    configure(&o)
    return try LogAnalyzer(o).analyze(paths: paths)
}

/// The ground-truth question (top 100, 1-minute windows, per route, `duration_ms` latency) over small
/// chunks and several workers, which force many segments and a real merge.
func segmented(chunk: Int, workers: Int, grep: String? = nil) -> (inout LogAnalysisOptions) -> Void {
    { o in
        o.chunkBytes = chunk
        o.maxLineBytes = 1000
        o.workers = workers
        o.top = 100
        o.window = 60
        o.groupBy = "route"
        o.latencyField = "duration_ms"
        o.grep = grep
    }
}
