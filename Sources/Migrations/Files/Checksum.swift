import Crypto
import Foundation

/// SHA-256 checksums of migration scripts (swift-crypto, already linked for webhook signing).
enum Checksum {
    /// Lowercase hex digest of the UTF-8 bytes of `text`.
    static func hex(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
