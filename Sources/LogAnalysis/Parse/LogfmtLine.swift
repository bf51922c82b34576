import CSimdJSON

/// logfmt lines: `time=… level=warn msg="card declined" route=/pay duration_ms=12`.
enum LogfmtLine {
    static func parse(_ event: inout LineEvent, groupKey: [UInt8]?, latencyKey: [UInt8]?) {
        let line = event.line
        let n = line.count
        guard n > 0, let p = line.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var i = 0
        var sawPair = false
        while i < n {
            while i < n && (p[i] == 0x20 || p[i] == 0x09) { i += 1 }
            let keyStart = i
            while i < n && p[i] != 0x3D && p[i] != 0x20 && p[i] != 0x09 { i += 1 }
            let keyEnd = i
            // Not a pair: step past the byte that stopped the key. A bare `=` (empty key) used to leave
            // `i` where it was and loop forever (found by the fuzzer: `level=error msg=x =a`).
            guard i < n, p[i] == 0x3D, keyEnd > keyStart else { i += 1; continue }
            i += 1
            var valueStart = i, valueEnd = i
            if i < n && p[i] == 0x22 {
                i += 1
                valueStart = i
                while i < n && p[i] != 0x22 {
                    if p[i] == 0x5C { i += 1 }
                    i += 1
                }
                valueEnd = min(i, n)
                if i < n { i += 1 }
            } else {
                while i < n && p[i] != 0x20 && p[i] != 0x09 { i += 1 }
                valueEnd = i
            }
            sawPair = true
            let key = UnsafeBufferPointer(start: p + keyStart, count: keyEnd - keyStart)
            let value = UnsafeRawBufferPointer(start: p + valueStart, count: valueEnd - valueStart)
            switch key.count {
            case 1 where key[0] == 0x74: setTime(&event, value) // t
            case 2 where equal(key, "ts"): setTime(&event, value)
            case 4 where equal(key, "time"): setTime(&event, value)
            case 9 where equal(key, "timestamp"): setTime(&event, value)
            case 3 where equal(key, "msg"), 7 where equal(key, "message"):
                if event.message == nil { event.message = value }
            case 5 where equal(key, "level"), 3 where equal(key, "lvl"), 8 where equal(key, "severity"):
                if event.level == 0 {
                    event.level = value.withMemoryRebound(to: UInt8.self) { v in
                        if let num = Int(String(decoding: v, as: UTF8.self)) { return UInt8(clamping: num) }
                        return LevelWords.level(v)
                    }
                }
            default: break
            }
            if let groupKey, event.group == nil, key.elementsEqual(groupKey) { event.group = value }
            if let latencyKey, event.latency.isNaN, key.elementsEqual(latencyKey), let d = value.doubleValue { event.latency = d }
        }
        if !sawPair { PlainTextLine.parse(&event) }
    }

    static func equal(_ key: UnsafeBufferPointer<UInt8>, _ s: StaticString) -> Bool {
        guard key.count == s.utf8CodeUnitCount else { return false }
        let q = s.utf8Start
        for i in 0..<key.count where key[i] != q[i] { return false }
        return true
    }

    static func setTime(_ event: inout LineEvent, _ value: UnsafeRawBufferPointer) {
        guard event.timeMs == LineEvent.noTime, let base = value.baseAddress else { return }
        var ms: Int64 = 0
        if cs_parse_iso8601(base.assumingMemoryBound(to: CChar.self), value.count, &ms) > 0 {
            event.timeMs = ms
        } else if let d = value.doubleValue {
            event.timeMs = LogTime.epochMs(fromNumber: d)
        }
    }
}
