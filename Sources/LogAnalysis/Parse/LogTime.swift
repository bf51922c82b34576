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
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(frac))
    }

    static func date(ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
}
