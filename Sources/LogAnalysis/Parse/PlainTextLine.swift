import CSimdJSON

/// Plain text lines: an optional ISO-8601 timestamp (possibly in brackets), a level word
/// (`ERROR`, `[warn]`, `info:`) among the first words, and the ✅ ⚠️ ❌ markers.
enum PlainTextLine {
    static func parse(_ event: inout LineEvent) {
        let line = event.line
        let n = line.count
        guard n > 0, let base = line.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var i = skipSpaces(base, 0, n)
        let bracket = i < n && base[i] == 0x5B
        let t = bracket ? i + 1 : i
        var ms: Int64 = 0
        let used = base.withMemoryRebound(to: CChar.self, capacity: n) { cs_parse_iso8601($0 + t, n - t, &ms) }
        if used > 0 {
            event.timeMs = ms
            i = t + used
            if i < n && base[i] == 0x5D { i += 1 }
        }
        i = skipSeparators(base, i, n)
        event.marker = Marker.find(in: line)
        var messageStart = i
        // The level is one of the first four words: upper case anywhere, any case when it is
        // the first word, bracketed or followed by a colon.
        var word = 0, k = i
        while word < 4 && k < n {
            k = skipSeparators(base, k, n)
            let start = k
            let bracketed = start > 0 && (base[start - 1] == 0x5B || base[start - 1] == 0x28)
            var upper = true
            while k < n && isLetter(base[k]) {
                if base[k] >= 0x61 { upper = false }
                k += 1
            }
            if k == start {
                // Not a word (a marker, digits, punctuation): step over it.
                while k < n && !isLetter(base[k]) && base[k] != 0x20 { k += 1 }
                word += 1
                continue
            }
            let colon = k < n && base[k] == 0x3A
            if upper || word == 0 || bracketed || colon {
                let level = LevelWords.level(UnsafeBufferPointer(start: base + start, count: k - start))
                if level > 0 && (k == n || !isLetter(base[k])) {
                    event.level = level
                    if k < n && (base[k] == 0x5D || base[k] == 0x29) { k += 1 }
                    messageStart = skipSeparators(base, k, n)
                    break
                }
            }
            word += 1
        }
        if event.level == 0 { event.level = event.marker.level }
        event.message = UnsafeRawBufferPointer(start: base + messageStart, count: n - messageStart)
    }

    @inline(__always) static func isLetter(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }

    static func skipSpaces(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> Int {
        var i = i
        while i < n && (p[i] == 0x20 || p[i] == 0x09) { i += 1 }
        return i
    }

    /// Spaces and the punctuation that frames a level word (`[ERROR] - `, `| warn |`).
    static func skipSeparators(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> Int {
        var i = i
        while i < n {
            switch p[i] {
            case 0x20, 0x09, 0x3A, 0x2D, 0x5B, 0x5D, 0x7C, 0x28, 0x29: i += 1
            default: return i
            }
        }
        return i
    }
}

