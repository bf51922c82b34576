/// A minimal JSON reader for libpg_query's parse trees (well-formed by construction, so errors
/// only say "unreadable"). Faster than Foundation's and free of its NSNumber/Bool ambiguity.
struct TreeJSON {
    private let b: UnsafeBufferPointer<UInt8>
    private var i = 0
    /// Polled every 1,024 array elements: a huge script's tree stops being read once it says so (nil).
    private var shouldStop: (() -> Bool)?
    private var elements = 0
    private var depth = 0
    private var tooDeep = false

    /// The reader recurses per level, on threads with small stacks: `SELECT 1+1+…` with 10k terms or
    /// 1000 nested ARRAY[ crashed it (SIGSEGV, found by the deep-structure fuzz tests). Real
    /// statements stay far below this.
    static let maxDepth = 1024

    /// Nil when unreadable or stopped; `tooDeep` tells a too-deep tree apart.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, shouldStop: (() -> Bool)? = nil) -> (tree: SQLNode?, tooDeep: Bool) {
        var reader = TreeJSON(b: bytes)
        reader.shouldStop = shouldStop
        let tree = reader.value()
        return (tree, reader.tooDeep)
    }

    private init(b: UnsafeBufferPointer<UInt8>) { self.b = b }

    private mutating func skipSpace() {
        while i < b.count, b[i] == 32 || b[i] == 10 || b[i] == 9 || b[i] == 13 { i += 1 }
    }

    private mutating func value() -> SQLNode? {
        skipSpace()
        guard i < b.count else { return nil }
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { tooDeep = true; return nil }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var o: [String: SQLNode] = [:]
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
            while true {
                skipSpace()
                guard let k = string() else { return nil }
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
                i += 1
                guard let v = value() else { return nil }
                o[k] = v
                skipSpace()
                guard i < b.count else { return nil }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                return nil
            }
        case UInt8(ascii: "["):
            i += 1
            var a: [SQLNode] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            while true {
                guard let v = value() else { return nil }
                a.append(v)
                elements += 1
                if elements & 1023 == 0, shouldStop?() == true { return nil }
                skipSpace()
                guard i < b.count else { return nil }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                return nil
            }
        case UInt8(ascii: "\""):
            return string().map(SQLNode.string)
        case UInt8(ascii: "t"): i += 4; return .bool(true)
        case UInt8(ascii: "f"): i += 5; return .bool(false)
        case UInt8(ascii: "n"): i += 4; return .null
        default:
            let start = i
            while i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: ".")
                    || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") || (b[i] >= 48 && b[i] <= 57) { i += 1 }
            guard i > start else { return nil }
            return Double(String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)).map(SQLNode.number)
        }
    }

    private mutating func string() -> String? {
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
        i += 1
        var out: [UInt8] = []
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return String(decoding: out, as: UTF8.self) }
            if c == UInt8(ascii: "\\"), i + 1 < b.count {
                i += 1
                switch b[i] {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "u"):
                    guard i + 4 < b.count, var code = UInt32(String(decoding: UnsafeBufferPointer(rebasing: b[(i + 1)...(i + 4)]), as: UTF8.self), radix: 16) else { return nil }
                    i += 4
                    // Surrogate pair.
                    if code >= 0xD800, code < 0xDC00, i + 6 < b.count, b[i + 1] == UInt8(ascii: "\\"), b[i + 2] == UInt8(ascii: "u"),
                       let low = UInt32(String(decoding: UnsafeBufferPointer(rebasing: b[(i + 3)...(i + 6)]), as: UTF8.self), radix: 16) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                    out.append(contentsOf: Array(String(Unicode.Scalar(code).map(Character.init) ?? "?").utf8))
                default: out.append(b[i])
                }
                i += 1
            } else {
                out.append(c)
                i += 1
            }
        }
        return nil
    }
}
