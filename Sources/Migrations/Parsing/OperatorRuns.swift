/// Finds runs of operator characters (`++++…`) outside strings, quoted identifiers, comments and
/// dollar quotes. Postgres' lexer backs up through such a run one character at a time, which is
/// quadratic: 40k `+` took 13 s in libpg_query (found by the fuzzer). No valid statement has one —
/// an operator is at most 63 characters — so a long run is refused before the parser sees it.
enum OperatorRuns {
    static let maxRun = 1_000

    /// Byte offset and length of the first run longer than `maxRun`, or nil.
    static func firstTooLong(_ b: [UInt8]) -> (offset: Int, length: Int)? {
        func isOperator(_ c: UInt8) -> Bool { "+-*/<>=~!@#%^&|`?".utf8.contains(c) }
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") { // string or quoted identifier ('' and "" escape)
                i += 1
                while i < n {
                    if b[i] == c { if i + 1 < n, b[i + 1] == c { i += 2; continue }; break }
                    if c == UInt8(ascii: "'"), b[i] == UInt8(ascii: "\\") { i += 1 } // E'' escapes (harmless otherwise)
                    i += 1
                }
                i += 1
                continue
            }
            if c == UInt8(ascii: "-"), i + 1 < n, b[i + 1] == UInt8(ascii: "-") { // line comment
                while i < n, b[i] != 10 { i += 1 }
                continue
            }
            if c == UInt8(ascii: "/"), i + 1 < n, b[i + 1] == UInt8(ascii: "*") { // block comment, nested
                var depth = 1
                i += 2
                while i < n, depth > 0 {
                    if b[i] == UInt8(ascii: "/"), i + 1 < n, b[i + 1] == UInt8(ascii: "*") { depth += 1; i += 2; continue }
                    if b[i] == UInt8(ascii: "*"), i + 1 < n, b[i + 1] == UInt8(ascii: "/") { depth -= 1; i += 2; continue }
                    i += 1
                }
                continue
            }
            if c == UInt8(ascii: "$"), let end = dollarQuoteEnd(b, from: i) {
                i = end
                continue
            }
            if isOperator(c) {
                let start = i
                // The run ends where a comment starts, as in the lexer.
                while i < n, isOperator(b[i]), !(i + 1 < n && (b[i] == UInt8(ascii: "-") && b[i + 1] == UInt8(ascii: "-")
                                                        || b[i] == UInt8(ascii: "/") && b[i + 1] == UInt8(ascii: "*"))) { i += 1 }
                if i - start > maxRun { return (start, i - start) }
                if i == start { i += 1 }
                continue
            }
            i += 1
        }
        return nil
    }

    /// `$tag$ … $tag$`: the offset after the closing tag, or nil when `$` does not open one.
    static func dollarQuoteEnd(_ b: [UInt8], from start: Int) -> Int? {
        var j = start + 1
        while j < b.count, b[j] == UInt8(ascii: "_") || (b[j] | 0x20 >= UInt8(ascii: "a") && b[j] | 0x20 <= UInt8(ascii: "z"))
                || (j > start + 1 && b[j] >= UInt8(ascii: "0") && b[j] <= UInt8(ascii: "9")) { j += 1 }
        guard j < b.count, b[j] == UInt8(ascii: "$") else { return nil }
        let tag = Array(b[start...j])
        var k = j + 1
        while k + tag.count <= b.count {
            if b[k] == UInt8(ascii: "$"), Array(b[k..<(k + tag.count)]) == tag { return k + tag.count }
            k += 1
        }
        return b.count
    }
}
