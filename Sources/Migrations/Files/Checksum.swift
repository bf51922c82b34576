import Crypto
import Foundation

/// SHA-256 checksums of migration scripts (swift-crypto, already linked for webhook signing).
enum Checksum {
    /// Lowercase hex digest of the UTF-8 bytes of `text`.
    static func hex(_ text: String) -> String {
        // Formatting each byte with String(format:) cost more than hashing (a Foundation call per byte).
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in SHA256.hash(data: Data(text.utf8)) {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
