import CSimdJSON
import Foundation
import Support

/// Secrets are masked in a log line *before* it is fingerprinted or kept as an example: once
/// digits became `<num>` or the line was cut to 400 bytes, a secret no longer matches.
///
/// Masking is a String operation, far slower than the byte scanner, so each line is first
/// checked at the byte level: does it hold a registered secret, or a word that the masker's
/// patterns look for (a URL with userinfo, `password=`, `token=`, `Bearer …`)? Only those lines
/// take the slow path. The check is `cs_needs_masking`, which the scanner also runs on the error
/// lines it fingerprints itself.
struct LineMasking: Sendable {
    private let secrets: [[UInt8]]
    private let masker: SecretMasker
    let check: MaskCheck

    init(masker: SecretMasker = .shared) {
        self.masker = masker
        secrets = masker.registered.map { Array($0.utf8) }
        check = MaskCheck(secrets: secrets)
    }

    func needsMasking(_ line: UnsafeRawBufferPointer) -> Bool {
        cs_needs_masking(check.pointer, line.baseAddress?.assumingMemoryBound(to: CChar.self), line.count) != 0
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
}

/// The registered secrets in the scanner's form (`cs_masker`), immutable once made.
final class MaskCheck: @unchecked Sendable {
    let pointer: OpaquePointer

    init(secrets: [[UInt8]]) {
        let copies = secrets.map { bytes -> UnsafeMutablePointer<CChar> in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, bytes.count))
            bytes.withUnsafeBytes { if let b = $0.baseAddress { UnsafeMutableRawPointer(p).copyMemory(from: b, byteCount: $0.count) } }
            return p
        }
        defer { copies.forEach { $0.deallocate() } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
        var lengths = secrets.map(\.count)
        pointer = cs_masker_new(&pointers, &lengths, Int32(secrets.count))!
    }

    deinit { cs_masker_free(pointer) }
}
