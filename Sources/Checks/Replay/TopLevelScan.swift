/// Reads one string member of a JSON object's top level without building the object: the service's
/// answer to each replayed event (`{"status":"processed",...}`) is scanned, not decoded. Structure is
/// checked (quotes, brackets, colons, commas, nothing after the object); scalars are not validated.
enum TopLevelScan {
    enum Result: Equatable {
        case found(String)
        /// Not an object, no such member, the member is not a string, or the text is not well formed.
        case absent
        /// Escapes where the scan would have to decode them: let a real decoder answer.
        case undecided
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    static func status(_ bytes: [UInt8]) -> Result { member("status", in: bytes) }

    static func member(_ name: String, in bytes: [UInt8]) -> Result {
        let key = Array(name.utf8)
        return bytes.withUnsafeBufferPointer { b -> Result in
            var i = 0
            let n = b.count
            func skipSpace() { while i < n, isSpace(b[i]) { i += 1 } }
            /// At a `"`: moves past the closing quote; the range of the content and whether it held escapes.
            func string() -> (Range<Int>, Bool)? {
                i += 1
                let start = i
                var escaped = false
                while i < n {
                    switch b[i] {
                    case UInt8(ascii: "\""): i += 1; return (start..<(i - 1), escaped)
                    case UInt8(ascii: "\\"): escaped = true; i += 2
                    case 0..<0x20: return nil
                    default: i += 1
                    }
                }
                return nil
            }
            /// Skips one value (a container by bracket depth, strings whole); false if it runs off the end.
            func skipValue() -> Bool {
                guard i < n else { return false }
                switch b[i] {
                case UInt8(ascii: "\""): return string() != nil
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    var depth = 0
                    while i < n {
                        switch b[i] {
                        case UInt8(ascii: "\""): if string() == nil { return false }; continue
                        case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                        case UInt8(ascii: "}"), UInt8(ascii: "]"):
                            depth -= 1
                            if depth == 0 { i += 1; return true }
                        default: break
                        }
                        i += 1
                    }
                    return false
                default:
                    let start = i
                    while i < n, !isSpace(b[i]), b[i] != UInt8(ascii: ","), b[i] != UInt8(ascii: "}"), b[i] != UInt8(ascii: "]") { i += 1 }
                    return i > start
                }
            }
            skipSpace()
            guard i < n, b[i] == UInt8(ascii: "{") else { return .absent }
            i += 1
            var found: Result = .absent
            skipSpace()
            if i < n, b[i] == UInt8(ascii: "}") { return .absent }
            while true {
                skipSpace()
                // A comma before the closing brace: Foundation's parser accepts it, so the scan does too.
                if i < n, b[i] == UInt8(ascii: "}") {
                    i += 1
                    skipSpace()
                    return i == n ? found : .absent
                }
                guard i < n, b[i] == UInt8(ascii: "\""), let (k, keyEscaped) = string() else { return .absent }
                if keyEscaped { return .undecided }
                skipSpace()
                guard i < n, b[i] == UInt8(ascii: ":") else { return .absent }
                i += 1
                skipSpace()
                let isKey = k.count == key.count && zip(b[k], key).allSatisfy { $0 == $1 }
                if isKey, i < n, b[i] == UInt8(ascii: "\"") {
                    guard let (v, escaped) = string() else { return .absent }
                    if escaped { return .undecided }
                    // A duplicate member: the last one counts.
                    found = .found(String(decoding: UnsafeBufferPointer(rebasing: b[v]), as: UTF8.self))
                } else {
                    guard skipValue() else { return .absent }
                    if isKey { found = .absent }
                }
                skipSpace()
                guard i < n else { return .absent }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                guard b[i] == UInt8(ascii: "}") else { return .absent }
                i += 1
                skipSpace()
                return i == n ? found : .absent
            }
        }
    }
}
