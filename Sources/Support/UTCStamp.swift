import Foundation

/// `yyyyMMdd-HHmmss` in UTC, the time part of run and replay ids, from gmtime_r: a DateFormatter (an
/// ICU formatter built per call) cost ~1 ms before a run's first step, and again before a replay's
/// first request.
public enum UTCStamp {
    public static func compact(_ date: Date = Date()) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : String(v) }
        return String(parts.tm_year + 1900) + two(parts.tm_mon + 1) + two(parts.tm_mday) + "-"
            + two(parts.tm_hour) + two(parts.tm_min) + two(parts.tm_sec)
    }
}
