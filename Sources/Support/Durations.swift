import Foundation

/// Parses the duration strings runbooks and flags use: `500ms`, `5s`, `2m`, `1h`, `1d`, `1m30s`, or bare seconds.
public enum DurationText {
    /// The longest duration anything accepts: one year (366d). Longer values are typos, and turning them
    /// into milliseconds or a deadline must never overflow (`9999999999999999999999h` used to trap or wait forever).
    public static let maximumSeconds: Double = 366 * 86_400

    /// How a duration is written, for error messages.
    public static let expected = "a duration like 500ms, 30s, 5m or 2h (at most 366d)"

    /// Seconds, or nil when the text is not a duration or is longer than `maximumSeconds`.
    public static func seconds(_ text: String) -> Double? {
        guard let value = unbounded(text), value <= maximumSeconds else { return nil }
        return value
    }

    /// Why `text` is not an acceptable duration (nil when it is one), for messages that say what to fix.
    public static func problem(_ text: String) -> String? {
        guard let value = unbounded(text) else {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("-") { return "'\(text)' is negative: a duration is 0 or more, like 30s" }
            return "'\(text)' is not \(expected)"
        }
        if value > maximumSeconds { return "'\(text)' is longer than the maximum of 366 days" }
        return nil
    }

    static func unbounded(_ text: String) -> Double? {
        // Thousands of characters are never a duration; a bound keeps hostile input cheap.
        guard text.utf8.count <= 64 else { return nil }
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        if s.isEmpty { return nil }
        // Only digits, '.' and unit letters: Double() alone would also take "inf", "nan", "1e400" and "0x10".
        guard s.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isLetter || $0 == ".") }) else { return nil }
        if s.allSatisfy({ $0.isNumber || $0 == "." }) {
            guard let plain = Double(s), plain.isFinite else { return nil }
            return plain
        }
        var total = 0.0
        var number = ""
        var index = s.startIndex
        var sawUnit = false
        while index < s.endIndex {
            let c = s[index]
            if c.isNumber || c == "." {
                number.append(c)
                index = s.index(after: index)
                continue
            }
            var unit = ""
            while index < s.endIndex, s[index].isLetter {
                unit.append(s[index])
                index = s.index(after: index)
            }
            guard let value = Double(number) else { return nil }
            let factor: Double
            switch unit {
            case "ms": factor = 0.001
            case "s", "sec", "secs": factor = 1
            case "m", "min", "mins": factor = 60
            case "h", "hr", "hrs": factor = 3600
            case "d", "day", "days": factor = 86400
            default: return nil
            }
            total += value * factor
            number = ""
            sawUnit = true
        }
        guard number.isEmpty, sawUnit, total.isFinite else { return nil }
        return total
    }

    /// Human form used in reports: `850ms`, `1.2s`, `3m05s`.
    public static func format(milliseconds ms: Double) -> String {
        guard ms.isFinite else { return ms.isNaN ? "?" : (ms > 0 ? "∞" : "-∞") }
        if ms < 0 { return "-" + format(milliseconds: -ms) }
        if ms < 1 { return String(format: "%.2fms", ms) }
        // Decide the unit on the rounded value, so 999.6 ms reads "1.0s" and 59.96 s reads "1m00s".
        if ms.rounded() < 1000 { return "\(Int(ms.rounded()))ms" }
        let s = ms / 1000
        // Beyond a year minutes stop being readable (and beyond Int they would trap): say days.
        if s > maximumSeconds { return String(format: "%.0fd", s / 86_400) }
        if (s * 10).rounded() / 10 < 60 { return String(format: "%.1fs", s) }
        let whole = Int(s.rounded())
        return String(format: "%dm%02ds", whole / 60, whole % 60)
    }
}
