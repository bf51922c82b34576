/// Reduces a message to its shape so that occurrences differing only in ids group together:
/// UUIDs, emails, IPv4 addresses, hex ids, numbers and quoted values become placeholders
/// (`<uuid>`, `<email>`, `<ip>`, `<hex>`, `<num>`, `<str>`); digit runs inside words become `<num>`.
struct Fingerprinter: ~Copyable {
    /// Only the head of a message is fingerprinted (stack traces and dumps follow it).
    static let maxInput = 300
    private let out: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private(set) var count = 0

    init() {
        capacity = Self.maxInput * 6 + 16
        out = .allocate(capacity: capacity)
    }

    deinit { out.deallocate() }

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: out, count: count) }

    var string: String { String(decoding: bytes, as: UTF8.self) }

    var hash: UInt64 {
        // FNV-1a: stable across runs (pruning and ties stay reproducible).
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<count { h = (h ^ UInt64(out[i])) &* 0x0000_0100_0000_01B3 }
        return h
    }

    private mutating func emit(_ b: UInt8) {
        out[count] = b
        count += 1
    }

    private mutating func emit(_ s: StaticString) {
        let p = s.utf8Start
        for i in 0..<s.utf8CodeUnitCount { emit(p[i]) }
    }

    /// Writes the fingerprint of `message` into the internal buffer.
    mutating func fingerprint(_ message: UnsafeRawBufferPointer) {
        count = 0
        let n = min(message.count, Self.maxInput)
        guard n > 0, let base = message.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var i = 0
        while i < n {
            let b = base[i]
            if b == 0x22 || b == 0x27 || b == 0x60 { // " ' `
                let prevIsWord = i > 0 && Self.isWordByte(base[i - 1])
                if !(b == 0x27 && prevIsWord), let close = Self.find(b, base, from: i + 1, to: n) {
                    emit("<str>")
                    i = close + 1
                    continue
                }
                emit(b)
                i += 1
            } else if Self.isWordByte(b) {
                var j = i + 1
                while j < n && Self.isTokenByte(base[j]) { j += 1 }
                while j > i + 1 && Self.isTrailingPunct(base[j - 1]) { j -= 1 }
                emitToken(base + i, j - i)
                i = j
            } else {
                emit(b)
                i += 1
            }
        }
        // Trailing whitespace never distinguishes two messages.
        while count > 0 && (out[count - 1] == 0x20 || out[count - 1] == 0x09) { count -= 1 }
    }

    private mutating func emitToken(_ t: UnsafePointer<UInt8>, _ n: Int) {
        var digits = 0, hexLetters = 0, otherLetters = 0, dots = 0, dashes = 0, ats = 0
        for k in 0..<n {
            let c = t[k]
            if c >= 0x30 && c <= 0x39 { digits += 1 }
            else if (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) { hexLetters += 1 }
            else if c == 0x2E { dots += 1 }
            else if c == 0x2D { dashes += 1 }
            else if c == 0x40 { ats += 1 }
            else { otherLetters += 1 }
        }
        if ats == 1, Self.isEmail(t, n) { emit("<email>"); return }
        if n == 36, dashes == 4, otherLetters == 0, dots == 0, t[8] == 0x2D, t[13] == 0x2D, t[18] == 0x2D, t[23] == 0x2D {
            emit("<uuid>"); return
        }
        if digits > 0 && hexLetters == 0 && otherLetters == 0 && dashes == 0 && ats == 0 {
            if dots == 3, Self.isIPv4(t, n) { emit("<ip>"); return }
            if t[0] >= 0x30 && t[0] <= 0x39 { emit("<num>"); return }
        }
        if n > 2, t[0] == 0x30, t[1] == 0x78 || t[1] == 0x58, otherLetters == 1, dots == 0, dashes == 0, ats == 0 {
            emit("<hex>"); return
        }
        if n >= 6, digits > 0, hexLetters > 0, otherLetters == 0, dots == 0, dashes == 0, ats == 0 {
            emit("<hex>"); return
        }
        var k = 0
        while k < n {
            if t[k] >= 0x30 && t[k] <= 0x39 {
                while k < n && t[k] >= 0x30 && t[k] <= 0x39 { k += 1 }
                // A decimal fraction belongs to the number (`1.5s` is `<num>s`).
                if k + 1 < n && t[k] == 0x2E && t[k + 1] >= 0x30 && t[k + 1] <= 0x39 {
                    k += 1
                    while k < n && t[k] >= 0x30 && t[k] <= 0x39 { k += 1 }
                }
                emit("<num>")
            } else {
                emit(t[k])
                k += 1
            }
        }
    }

    static func isWordByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
    }

    static func isTokenByte(_ c: UInt8) -> Bool {
        isWordByte(c) || c == 0x2E || c == 0x2D || c == 0x40 || c == 0x2B
    }

    static func isTrailingPunct(_ c: UInt8) -> Bool { c == 0x2E || c == 0x2D || c == 0x2B || c == 0x40 }

    static func find(_ q: UInt8, _ p: UnsafePointer<UInt8>, from: Int, to: Int) -> Int? {
        var k = from
        while k < to {
            if p[k] == 0x5C { k += 2; continue }
            if p[k] == q { return k }
            k += 1
        }
        return nil
    }

    static func isEmail(_ t: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        var at = -1
        for k in 0..<n where t[k] == 0x40 { at = k }
        guard at > 0, at < n - 3 else { return false }
        var dot = false
        for k in (at + 2)..<n where t[k] == 0x2E { dot = true }
        return dot && t[n - 1] != 0x2E
    }

    static func isIPv4(_ t: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        var part = 0, len = 0, parts = 0
        for k in 0...n {
            if k == n || t[k] == 0x2E {
                guard len > 0, len <= 3, part <= 255 else { return false }
                parts += 1
                part = 0
                len = 0
            } else {
                part = part * 10 + Int(t[k] - 0x30)
                len += 1
            }
        }
        return parts == 4
    }
}

extension Fingerprinter {
    /// Convenience for tests and callers outside the scanner.
    static func fingerprint(_ message: String) -> String {
        var f = Fingerprinter()
        var m = message
        m.withUTF8 { f.fingerprint(UnsafeRawBufferPointer($0)) }
        return f.string
    }
}
