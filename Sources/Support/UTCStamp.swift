import Foundation

/// `yyyyMMdd-HHmmss` in UTC (run and replay ids, retention archive names), from gmtime_r: a DateFormatter
/// (an ICU formatter built per call) cost ~1 ms before a run's first step, and again before a replay's
/// first request.
public enum UTCStamp {
    /// `yyyyMMdd-HHmmss-3f9a`: short, sortable, unique enough for humans to type (run and replay ids).
    public static func uniqueID() -> String {
        compact() + "-" + String(UUID().uuidString.lowercased().prefix(4))
    }

    public static func compact(_ date: Date = Date()) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : String(v) }
        return String(parts.tm_year + 1900) + two(parts.tm_mon + 1) + two(parts.tm_mday) + "-"
            + two(parts.tm_hour) + two(parts.tm_min) + two(parts.tm_sec)
    }
}
