/// Byte-level searches for ASCII keywords. Foundation's case-insensitive `range(of:)` bridges the whole
/// text to UTF-16 on Linux, which dominated the secret masker on journal rows and the migration
/// marker check on every file read.
public enum ASCIIText {
    /// Whether `word` (lowercase ASCII) appears in `text` in any ASCII case. `| 0x20` folds ASCII upper
    /// case onto lower case; no non-ASCII character case-folds to an ASCII letter, so nothing a
    /// case-insensitive search would find is missed.
    public static func contains(_ text: String, ignoringCase word: StaticString) -> Bool {
        var text = text
        return text.withUTF8 { contains($0, ignoringCase: word) }
    }

    /// The same search over UTF-8 bytes.
    public static func contains(_ bytes: UnsafeBufferPointer<UInt8>, ignoringCase word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        let w = word.utf8Start
        guard n > 0, bytes.count >= n else { return false }
        for start in 0...(bytes.count - n) where bytes[start] | 0x20 == w[0] {
            var k = 1
            while k < n && bytes[start + k] | 0x20 == w[k] { k += 1 }
            if k == n { return true }
        }
        return false
    }
}
