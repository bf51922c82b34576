import Foundation
import Support
import Testing
@testable import LogAnalysis

/// Secrets in log lines are masked before fingerprinting (which turns digits into `<num>`) and
/// before examples are cut to length: neither the secret nor a prefix of it survives, in any format.
@Suite struct LogMaskingTests {
    // Digits inside: fingerprinting first would turn it into KEY-CANARY-<num>b and escape the masker.
    static let key = "KEY-CANARY-0042b-\"quoted' 50% ✓"
    static let dsnPassword = "pw\"CANARY-77%zz"

    static func lines(format: String) -> String {
        let long = String(repeating: "x", count: 390) // the secret straddles the 400-byte example cut
        switch format {
        case "json":
            let key = SecretMasker.jsonEscaped(Self.key)
            let pw = SecretMasker.jsonEscaped(Self.dsnPassword)
            return """
                {"level":50,"time":"2026-01-01T00:00:00Z","msg":"call failed with key \(key)","user":"\(key)"}
                {"level":50,"time":"2026-01-01T00:00:01Z","msg":"\(long) \(key)","user":"bob"}
                {"level":50,"time":"2026-01-01T00:00:02Z","msg":"db postgresql://app:\(pw)@db/app down","user":"bob"}
                {"level":50,"time":"2026-01-01T00:00:03Z","msg":"GET https://api/x?token=CANARY-TOKEN-99 failed","user":"bob"}
                {"level":50,"time":"2026-01-01T00:00:04Z","msg":"auth Bearer CANARY-BEARER-12345 refused","user":"bob"}

                """
        case "logfmt":
            // logfmt writers escape quotes inside quoted values.
            let key = Self.key.replacingOccurrences(of: "\"", with: "\\\"")
            let pw = Self.dsnPassword.replacingOccurrences(of: "\"", with: "\\\"")
            return """
                time=2026-01-01T00:00:00Z level=error msg="call failed with key" key="\(key)" user="\(key)"
                time=2026-01-01T00:00:01Z level=error msg="\(long) \(key)" user=bob
                time=2026-01-01T00:00:02Z level=error msg="db postgresql://app:\(pw)@db/app down" user=bob
                time=2026-01-01T00:00:03Z level=error msg="GET https://api/x?token=CANARY-TOKEN-99 failed" user=bob

                """
        default:
            return """
                2026-01-01T00:00:00Z ERROR call failed with key \(Self.key)
                2026-01-01T00:00:01Z ERROR \(long) \(Self.key)
                2026-01-01T00:00:02Z ERROR db postgresql://app:\(Self.dsnPassword)@db/app down
                2026-01-01T00:00:03Z ERROR GET https://api/x?token=CANARY-TOKEN-99 failed
                2026-01-01T00:00:04Z ERROR auth Bearer CANARY-BEARER-12345 refused
                \u{01}\u{FF}garbage with \(Self.key)

                """
        }
    }

    @Test(arguments: ["json", "logfmt", "plain"])
    func secretsNeverReachFingerprintsExamplesOrGroups(format: String) throws {
        SecretMasker.shared.register(Self.key)
        let file = TempFile(Self.lines(format: format))
        let report = try analyze([file.path]) { $0.groupBy = "user" }
        #expect(report.errors >= 4)
        let outputs = [try report.jsonText(), report.renderText(width: 100)]
        for text in outputs {
            for leak in ["CANARY", "KEY-CAN", "0042b", "CANARY-77"] {
                #expect(!text.contains(leak), "\(format): '\(leak)' in \(text)")
            }
        }
        #expect(outputs[0].contains("****"), "masked, not dropped")
        // Masked lines still group together by shape.
        #expect(report.topFingerprints.contains { $0.fingerprint.contains("****") })
    }

    /// The scanner's byte hints find `Bearer` and `Basic` in any case wherever they sit: across the
    /// 16-byte blocks of the vector pass and in its byte tail. A lone `b` needs no word search.
    @Test func headerWordsAreFoundAtEveryOffset() {
        let masking = LineMasking(masker: SecretMasker())
        for word in ["Bearer", "BASIC", "bAsIc", "bearer"] {
            for pad in 0..<40 {
                for tail in 0..<3 {
                    let line = String(repeating: "x", count: pad) + " " + word + " tok12345" + String(repeating: "y", count: tail)
                    let found = Array(line.utf8).withUnsafeBytes { masking.needsMasking($0) }
                    #expect(found, "\(line)")
                }
            }
        }
        for clean in ["job billing failed at step fetch", "db timeout after 12ms", "webhook b", "B"] {
            #expect(!Array(clean.utf8).withUnsafeBytes { masking.needsMasking($0) }, "\(clean)")
        }
    }
}
