import CSimdJSON
import Foundation
import Support

/// Secrets are masked in a log line *before* it is fingerprinted or kept as an example: once
/// digits became `<num>` or the line was cut to 400 bytes, a secret no longer matches.
///
/// Masking is a String operation, far slower than the byte scanner, so each line is first
/// checked at the byte level: does it hold a registered secret, or a word that the masker's
/// patterns look for (a URL with userinfo, `password=`, `token=`, `Bearer …`)? Only those lines
/// take the slow path.
struct LineMasking: Sendable {
    private let secrets: [[UInt8]]
    private let masker: SecretMasker

    init(masker: SecretMasker = .shared) {
        self.masker = masker
        secrets = masker.registered.map { Array($0.utf8) }
    }

    private static let patternWords: [[UInt8]] = ["pass", "token", "key", "secret", "sig", "auth", "credential"].map { Array($0.utf8) }
    private static let schemeSeparator: [UInt8] = Array("://".utf8)
    private static let headerWords: [[UInt8]] = ["bearer", "basic"].map { Array($0.utf8) }

    func needsMasking(_ line: UnsafeRawBufferPointer) -> Bool {
        guard let base = line.baseAddress, line.count > 0 else { return false }
        for secret in secrets where secret.count <= line.count {
            if Self.find(line, secret) { return true }
        }
        // One vectorised pass says which patterns can match at all (most lines: none).
        let hints = cs_mask_hints(base.assumingMemoryBound(to: CChar.self), line.count)
        if hints & CS_HINT_AT != 0, Self.contains(line, Self.schemeSeparator) { return true }
        if hints & CS_HINT_EQUALS != 0,
           Self.patternWords.contains(where: { Self.contains(line, $0, followedBy: Self.isAssignment) }) { return true }
        guard hints & CS_HINT_B != 0 else { return false }
        return Self.headerWords.contains { Self.contains(line, $0, followedBy: { $0 < $1.count && $1[$0] == 0x20 }) }
    }

    /// After a credential word: more name characters, then `=` (`token=`, `api_key_v2=`, `password =`).
    static func isAssignment(_ i: Int, _ hay: UnsafeRawBufferPointer) -> Bool {
        var i = i
        while i < hay.count {
            let c = hay[i]
            if c == 0x3D { return true }
            let name = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D || c == 0x2E || c == 0x20
            if !name { return false }
            i += 1
        }
        return false
    }

    func mask(_ bytes: UnsafeRawBufferPointer) -> String {
        masker.mask(String(decoding: bytes, as: UTF8.self))
    }

    /// A field value taken from a line that held a secret: masked, and hidden whole when it is a
    /// piece of a secret (a parser may have cut the secret at a quote it holds).
    func maskField(_ bytes: UnsafeRawBufferPointer) -> String {
        let text = mask(bytes)
        if text.utf8.count >= 4, secrets.contains(where: { Self.find($0, Array(text.utf8)) }) { return SecretMasker.placeholder }
        return text
    }

    /// The head of `text` (at most `limit` UTF-8 bytes), cut after masking.
    static func head(_ text: String, _ limit: Int) -> String {
        text.utf8.count <= limit ? text : String(decoding: Array(text.utf8.prefix(limit)), as: UTF8.self)
    }

    static func find(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        hay.withUnsafeBytes { find($0, needle) }
    }

    /// Exact byte search: memchr for the first byte, memcmp for the rest.
    static func find(_ hay: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard let base = hay.baseAddress, let first = needle.first, needle.count <= hay.count else { return false }
        var start = 0
        let last = hay.count - needle.count
        while start <= last, let p = memchr(base + start, Int32(first), last - start + 1) {
            let i = base.distance(to: UnsafeRawPointer(p))
            if needle.withUnsafeBytes({ memcmp(base + i, $0.baseAddress!, needle.count) }) == 0 { return true }
            start = i + 1
        }
        return false
    }

    /// Case-insensitive (ASCII) search; `needle` is lower case. With `followedBy`, an occurrence counts
    /// only when that check passes at the index right after it. Candidates are found with memchr (for
    /// the lower- and the upper-case first byte): every error line is checked, so this is a hot path.
    static func contains(_ hay: UnsafeRawBufferPointer, _ needle: [UInt8],
                         followedBy check: ((Int, UnsafeRawBufferPointer) -> Bool)? = nil) -> Bool {
        guard needle.count <= hay.count, let first = needle.first, let base = hay.baseAddress else { return false }
        let upperFirst = first >= 0x61 && first <= 0x7A ? first - 0x20 : first
        let last = hay.count - needle.count
        for pass in 0..<(upperFirst == first ? 1 : 2) {
            let variant = pass == 0 ? first : upperFirst
            var start = 0
            while start <= last, let p = memchr(base + start, Int32(variant), last - start + 1) {
                let i = base.distance(to: UnsafeRawPointer(p))
                var k = 1
                while k < needle.count {
                    var c = hay[i + k]
                    if c >= 0x41 && c <= 0x5A { c += 0x20 }
                    if c != needle[k] { break }
                    k += 1
                }
                if k == needle.count, check?(i + k, hay) ?? true { return true }
                start = i + 1
            }
        }
        return false
    }
}
