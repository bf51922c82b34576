import Foundation
import Testing

/// An in-process mutational fuzzer. Each target starts from its saved corpus (Tests/Fuzz/Corpus/<target>/),
/// mutates inputs (bit flips, byte inserts and deletes, splices of two entries, deep nesting, huge numbers,
/// invalid UTF-8, the target's own tokens) and feeds them to a parser for a bounded time.
///
/// Every input must end in a result or a thrown, described error. A crash (trap, SIGSEGV) kills the test
/// runner, which fails CI: that is the point. Inputs whose outcome has not been seen yet (a new error
/// message, a new result shape) join the working corpus, a cheap stand-in for coverage feedback.
///
/// Environment:
///   OPSCTL_FUZZ_SECONDS  seconds per target (default 3; 0 runs only the saved corpus)
///   OPSCTL_FUZZ_SEED     seed of the mutation sequence (default 1): the same seed replays the same inputs
///   OPSCTL_FUZZ_TRACE    a directory: each input is written to <dir>/<target>.last before it runs, so the
///                        input that crashed the runner is on disk afterwards
///   OPSCTL_FUZZ_HANG_SECONDS  one input running longer than this (default 30) is a hang: the input is
///                        saved to $TMPDIR/opsctl-fuzz-hang-<target>.bin and the runner aborts (a hang
///                        would otherwise stall CI with no clue)
struct Fuzzer {
    let target: String
    var tokens: [String]
    /// Mutants above this size are cut: bigger inputs only slow the search down.
    var maxInput = 256 * 1024
    /// Names the trace and hang files (several tests may share one corpus).
    var label: String? = nil

    static var seconds: Double {
        ProcessInfo.processInfo.environment["OPSCTL_FUZZ_SECONDS"].flatMap(Double.init).map { max(0, $0) } ?? 3
    }

    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["OPSCTL_FUZZ_SEED"].flatMap(UInt64.init) ?? 1
    }

    static var corpusRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus")
    }

    /// The saved corpus of `target`, sorted by name so runs are reproducible.
    func corpus() throws -> [[UInt8]] {
        let dir = Self.corpusRoot.appendingPathComponent(target)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }.sorted()
        return try names.map { [UInt8](try Data(contentsOf: dir.appendingPathComponent($0))) }
    }

    struct Summary {
        var executions = 0
        var outcomes = 0
        var slowest = 0.0
        var slowestInput: [UInt8] = []
    }

    /// Runs `body` on every corpus entry, then on mutants until the time is up. `body` returns a short
    /// outcome signature (e.g. "ok 3 steps", or the error's message without its numbers).
    func run(_ body: ([UInt8]) -> String) throws -> Summary {
        var rng = SplitMix64(seed: Self.seed ^ UInt64(truncatingIfNeeded: target.hashValueStable))
        var pool = try corpus()
        #expect(!pool.isEmpty, "no saved corpus in Tests/Fuzz/Corpus/\(target)")
        if pool.isEmpty { pool = [[]] }
        var seen = Set<String>()
        var summary = Summary()
        let trace = ProcessInfo.processInfo.environment["OPSCTL_FUZZ_TRACE"].map { URL(fileURLWithPath: $0).appendingPathComponent("\(label ?? target).last") }

        func execute(_ input: [UInt8]) {
            if let trace { try? Data(input).write(to: trace) }
            let started = Date()
            let outcome = body(input)
            let took = Date().timeIntervalSince(started)
            summary.executions += 1
            if took > summary.slowest { summary.slowest = took; summary.slowestInput = input }
            if seen.insert(outcome).inserted {
                summary.outcomes += 1
                if input.count <= 64 * 1024 { pool.append(input) }
            }
        }

        let watchdog = Watchdog(target: label ?? target)
        defer { watchdog.stop() }
        for entry in pool {
            watchdog.begin(entry)
            execute(entry)
        }
        let deadline = Date().addingTimeInterval(Self.seconds)
        while Date() < deadline {
            let base = pool[rng.below(pool.count)]
            let other = pool[rng.below(pool.count)]
            var input = base
            for _ in 0..<(1 + rng.below(4)) { input = mutate(input, other: other, rng: &rng) }
            if input.count > maxInput { input.removeLast(input.count - maxInput) }
            watchdog.begin(input)
            execute(input)
        }
        if summary.slowest > 1 {
            // Slow inputs are next to hangs: keep the slowest one for a look.
            let path = NSTemporaryDirectory() + "opsctl-fuzz-slowest-\(label ?? target).bin"
            try? Data(summary.slowestInput).write(to: URL(fileURLWithPath: path))
            print("fuzz \(label ?? target): slowest input (\(String(format: "%.1f", summary.slowest)) s) saved to \(path)")
        }
        return summary
    }

    // MARK: - Mutations

    static let hugeNumbers = ["99999999999999999999", "1e19", "-1", "-9223372036854775808", "9223372036854775808",
                              "9999999999999999999999h", "1e400", "nan", "inf", "-0", "0x7fffffffffffffff", "0.0000000001",
                              "18446744073709551616", "1e-400", "4294967296", "2147483648ms"]
    static let invalidUTF8: [[UInt8]] = [[0xFF], [0xC3], [0xC3, 0x28], [0xE2, 0x82], [0xF0, 0x90, 0x80], [0x80], [0xED, 0xA0, 0x80], [0x00]]

    func mutate(_ input: [UInt8], other: [UInt8], rng: inout SplitMix64) -> [UInt8] {
        var b = input
        switch rng.below(11) {
        case 0 where !b.isEmpty: // bit flip
            let i = rng.below(b.count)
            b[i] ^= UInt8(1) << UInt8(rng.below(8))
        case 1: // random byte insert
            b.insert(UInt8(truncatingIfNeeded: rng.next()), at: rng.below(b.count + 1))
        case 2 where !b.isEmpty: // delete a run
            let i = rng.below(b.count)
            b.removeSubrange(i..<min(b.count, i + 1 + rng.below(16)))
        case 3: // splice: a prefix of this entry with a suffix of another
            let cut = rng.below(b.count + 1)
            let from = rng.below(other.count + 1)
            b = Array(b[..<cut]) + Array(other[from...])
        case 4: // deep nesting around a point
            let (open, close) = [("(", ")"), ("[", "]"), ("{", "}"), ("- ", ""), ("!", ""), ("{\"a\":", "}"), ("((", "))")][rng.below(7)]
            let depth = [70, 1000, 100_000][rng.below(3)]
            let at = rng.below(b.count + 1)
            b = Array(b[..<at]) + Array(String(repeating: open, count: depth).utf8) + Array(b[at...])
                + Array(String(repeating: close, count: close.isEmpty ? 0 : depth).utf8)
        case 5: // a huge or odd number
            b = replaceToken(b, with: Self.hugeNumbers[rng.below(Self.hugeNumbers.count)], rng: &rng)
        case 6: // invalid UTF-8 or a NUL
            let bytes = Self.invalidUTF8[rng.below(Self.invalidUTF8.count)]
            b.insert(contentsOf: bytes, at: rng.below(b.count + 1))
        case 7 where !tokens.isEmpty: // a token of the target's grammar
            let token = tokens[rng.below(tokens.count)]
            b.insert(contentsOf: Array(token.utf8), at: rng.below(b.count + 1))
        case 8 where !b.isEmpty: // duplicate a chunk (repetition grows structures)
            let i = rng.below(b.count)
            let chunk = b[i..<min(b.count, i + 1 + rng.below(64))]
            b.insert(contentsOf: Array(repeating: Array(chunk), count: 1 + rng.below(8)).flatMap { $0 }, at: rng.below(b.count + 1))
        case 9 where !b.isEmpty: // truncate
            b.removeLast(rng.below(b.count) + 1)
        default: // a very long run of one byte
            let byte = b.isEmpty ? UInt8(ascii: "a") : b[rng.below(b.count)]
            b.insert(contentsOf: Array(repeating: byte, count: [100, 5000, 70_000][rng.below(3)]), at: rng.below(b.count + 1))
        }
        return b
    }

    /// Replaces a run of digits (or inserts at a random point when there is none).
    func replaceToken(_ b: [UInt8], with text: String, rng: inout SplitMix64) -> [UInt8] {
        let digits = b.indices.filter { b[$0] >= 0x30 && b[$0] <= 0x39 }
        guard !digits.isEmpty else {
            var out = b
            out.insert(contentsOf: Array(text.utf8), at: rng.below(b.count + 1))
            return out
        }
        var start = digits[rng.below(digits.count)]
        var end = start
        while start > 0, b[start - 1] >= 0x30 && b[start - 1] <= 0x39 { start -= 1 }
        while end < b.count, b[end] >= 0x30 && b[end] <= 0x39 { end += 1 }
        return Array(b[..<start]) + Array(text.utf8) + Array(b[end...])
    }

    /// An outcome signature: the text with digits removed and cut short, so "line 3" and "line 4" count once.
    static func signature(_ text: String) -> String {
        String(text.unicodeScalars.filter { !CharacterSet.decimalDigits.contains($0) }.prefix(80).map(Character.init))
    }
}

/// Aborts the runner when one input runs too long, after saving it: an in-process hang cannot be interrupted.
final class Watchdog: @unchecked Sendable {
    let target: String
    let limit = ProcessInfo.processInfo.environment["OPSCTL_FUZZ_HANG_SECONDS"].flatMap(Double.init) ?? 30
    private let lock = NSLock()
    private var started = Date()
    private var input: [UInt8] = []
    private var running = true

    init(target: String) {
        self.target = target
        let thread = Thread { [weak self] in
            while let self, self.check() { Thread.sleep(forTimeInterval: 0.5) }
        }
        thread.start()
    }

    func begin(_ input: [UInt8]) {
        lock.lock()
        started = Date()
        self.input = input
        lock.unlock()
    }

    func stop() {
        lock.lock()
        running = false
        lock.unlock()
    }

    /// False once stopped; aborts when the current input is past the limit.
    private func check() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard running else { return false }
        guard Date().timeIntervalSince(started) > limit else { return true }
        let path = NSTemporaryDirectory() + "opsctl-fuzz-hang-\(target).bin"
        try? Data(input).write(to: URL(fileURLWithPath: path))
        FileHandle.standardError.write(Data("fuzz \(target): one input ran longer than \(limit) s (a hang); saved to \(path)\n".utf8))
        abort()
    }
}

/// Deterministic, fast, good enough for mutation choices.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
}

extension String {
    /// A hash that is the same in every process (String.hashValue is seeded per process).
    var hashValueStable: Int {
        Int(truncatingIfNeeded: utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 })
    }
}
