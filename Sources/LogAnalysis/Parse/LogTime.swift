import CSimdJSON
import Foundation

/// Timestamps as opsctl reads and writes them.
public enum LogTime {
    /// Epoch seconds, milliseconds, microseconds or nanoseconds told apart by magnitude (as in the C scanner).
    static func epochMs(fromNumber v: Double) -> Int64 {
        let a = abs(v)
        if a > 1e17 { return Int64(v / 1e6) }
        if a > 1e14 { return Int64(v / 1e3) }
        if a > 1e11 { return Int64(v) }
        return Int64((v * 1000).rounded())
    }

    /// Parses `--from`/`--to` values: ISO-8601 (zone optional, UTC assumed), a date alone, or epoch seconds/ms.
    public static func parse(_ text: String) -> Date? {
        let s = text.trimmingCharacters(in: .whitespaces)
        if let d = Double(s) { return Date(timeIntervalSince1970: Double(epochMs(fromNumber: d)) / 1000) }
        var candidate = s
        if s.count == 10 { candidate += "T00:00:00Z" }
        var ms: Int64 = 0
        let used = candidate.withCString { cs_parse_iso8601($0, strlen($0), &ms) }
        guard used > 0, used == candidate.utf8.count else { return nil }
        return Date(timeIntervalSince1970: Double(ms) / 1000)
    }

    /// `2026-11-24T11:26:10.123Z`.
    public static func iso(_ date: Date) -> String {
        iso(ms: Int64((date.timeIntervalSince1970 * 1000).rounded()))
    }

    static func iso(ms: Int64) -> String {
        let secs = WindowCounter.floorDiv(ms, 1000), frac = ms - secs * 1000
        var t = time_t(secs)
        var parts = tm()
        gmtime_r(&t, &parts)
        let year = Int(parts.tm_year) + 1900
        // The report writes one of these per window (1,250 for a day of 1-minute windows): digits by
        // hand, as String(format:) cost ≈ 3 µs each through Foundation's CFString formatting.
        guard (0...9999).contains(year) else {
            return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, Int(parts.tm_mon) + 1,
                          Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(frac))
        }
        return String(unsafeUninitializedCapacity: 24) { out in
            var i = 0
            func put(_ v: Int, _ width: Int) {
                var d = width - 1, x = v
                while d >= 0 { out[i + d] = UInt8(0x30 + x % 10); x /= 10; d -= 1 }
                i += width
            }
            func sep(_ c: UInt8) { out[i] = c; i += 1 }
            put(year, 4); sep(0x2D); put(Int(parts.tm_mon) + 1, 2); sep(0x2D); put(Int(parts.tm_mday), 2); sep(0x54)
            put(Int(parts.tm_hour), 2); sep(0x3A); put(Int(parts.tm_min), 2); sep(0x3A); put(Int(parts.tm_sec), 2); sep(0x2E)
            put(Int(frac), 3); sep(0x5A)
            return i
        }
    }

    static func date(ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
}
