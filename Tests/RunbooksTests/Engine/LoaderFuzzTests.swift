import Checks
import Foundation
import Testing
@testable import Runbooks

/// Hostile and malformed documents: the loader answers with a LoadError that has a location,
/// never a crash or a hang.
@Suite("Loader fuzzing")
struct LoaderFuzzTests {
    static let valid = """
        name: fuzz
        params:
          url: { type: string, default: "http://127.0.0.1:1/" }
        steps:
          - id: a
            kind: http.request
            with: { url: "${params.url}", expect_status: [200], latency_warn: 500ms }
            retry: { attempts: 2, delay: 1s }
          - id: b
            kind: pause
            needs: a
            when: steps.a.status == 'ok'
            with: { duration: 1s }
        """

    /// Deterministic generator (SplitMix64) so failures reproduce.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    static let fragments = [":", "- ", "{", "}", "[", "]", "&a ", "*a", "!!binary ", "'", "\"", "\t", "\n", "  ", "${", "${steps.", "%", "@",
                            "needs: a", "needs: [b, a]", "id: a", "kind: nope", "with: 7", "retry: -1", "timeout: 1x", "\u{0}", "\u{FEFF}",
                            "é", "🔥", "?", "|", ">", "---", "...", "#", "when: ((", "for_each: 3"]

    static func documents() -> [String] {
        var rng = Rng(state: 42)
        var docs: [String] = []
        let base = Array(valid)
        for i in 0..<520 {
            var chars = base
            switch i % 5 {
            case 0: chars = Array(chars.prefix(rng.int(chars.count)))                       // truncated
            case 1:                                                                      // random insertions
                for _ in 0..<(1 + rng.int(4)) {
                    let f = fragments[rng.int(fragments.count)]
                    chars.insert(contentsOf: Array(f), at: rng.int(chars.count))
                }
            case 2:                                                                      // random deletions
                for _ in 0..<(1 + rng.int(6)) where !chars.isEmpty { chars.remove(at: rng.int(chars.count)) }
            case 3:                                                                      // line shuffles
                var lines = String(chars).split(separator: "\n", omittingEmptySubsequences: false)
                if lines.count > 2 { lines.swapAt(rng.int(lines.count), rng.int(lines.count)) }
                chars = Array(lines.joined(separator: "\n"))
            default:                                                                     // random garbage
                chars = (0..<rng.int(200)).map { _ in Character(UnicodeScalar(UInt8(32 + rng.int(95)))) }
            }
            docs.append(String(chars))
        }
        // Known-hostile shapes.
        docs.append("a: &a [" + String(repeating: "*a,", count: 50) + "]\nb: &b [" + String(repeating: "*a,", count: 50) + "]\nc: &c [" + String(repeating: "*b,", count: 50) + "]\nd: [" + String(repeating: "*c,", count: 50) + "]\nsteps: []\n")
        docs.append("steps:\n  - id: a\n    kind: pause\n    with: { reason: \"" + String(repeating: "x", count: 2_000_000) + "\" }\n")
        docs.append(String(repeating: "[", count: 10_000))
        docs.append(String(repeating: "- ", count: 5_000) + "x")
        docs.append("steps:\n" + (0..<300).map { "  - { id: s\($0), kind: pause, needs: [s\(($0 + 1) % 300)] }" }.joined(separator: "\n"))
        return docs
    }

    @Test func malformedDocumentsAlwaysGiveALocatedError() {
        var located = 0
        let docs = Self.documents()
        for doc in docs {
            do {
                _ = try loadRunbook(doc)
            } catch let error as LoadError {
                #expect(!error.message.isEmpty)
                if error.line > 0 { located += 1 }
            } catch {
                Issue.record("non-LoadError for document: \(error)")
            }
        }
        #expect(docs.count >= 500)
        // Nearly every error names a line; the exceptions are whole-file problems (e.g. not UTF-8).
        #expect(located >= docs.count * 8 / 10, "only \(located) of \(docs.count) had a location")
    }
}
