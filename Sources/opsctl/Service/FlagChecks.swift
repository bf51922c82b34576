import ArgumentParser
import Foundation
import Support

/// Checks of flag values shared by the verbs. A wrong value is a usage error (exit 64) naming the flag
/// and showing a valid value — never a step failure, a Postgres error or a complaint about a shipped runbook.
enum FlagCheck {
    static func duration(_ value: String?, _ flag: String) throws {
        guard let value, let problem = DurationText.problem(value) else { return }
        throw ValidationError("\(flag): \(problem) (e.g. \(flag) 30s)")
    }

    static func range(_ value: Int?, _ flag: String, _ range: ClosedRange<Int>) throws {
        guard let value, !range.contains(value) else { return }
        throw ValidationError("\(flag) must be from \(range.lowerBound) to \(range.upperBound), got \(value)")
    }

    /// A point in time: a duration ago (`2h`) or a timestamp (`2026-11-24`, `2026-11-24T09:00Z`,
    /// `2026-11-24 09:00:00+01`). Checked here so `--since garbage` is not a Postgres error later.
    static func time(_ value: String?, _ flag: String) throws {
        guard let value else { return }
        if DurationText.seconds(value) != nil || isTimestamp(value) { return }
        throw ValidationError("\(flag) '\(value)' is not a time: give a timestamp like 2026-11-24T09:00Z or a duration ago like 2h (at most 366d)")
    }

    static func isTimestamp(_ text: String) -> Bool {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard t.utf8.count <= 40 else { return false }
        // Checked with ISO8601DateFormatter variants plus the date-only and no-seconds forms operators type.
        let formats = ["yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mmXXXXX", "yyyy-MM-dd'T'HH:mm:ss",
                       "yyyy-MM-dd'T'HH:mm:ssXXXXX", "yyyy-MM-dd'T'HH:mm:ss.SSS", "yyyy-MM-dd'T'HH:mm:ss.SSSXXXXX",
                       "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ssXXXXX", "yyyy-MM-dd HH:mm:ssX",
                       "yyyy-MM-dd HH:mm:ss.SSS", "yyyy-MM-dd HH:mm:ss.SSSXXXXX"]
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.isLenient = false
        return formats.contains { format in
            f.dateFormat = format
            return f.date(from: t) != nil
        }
    }

    /// The most events per second a replay may ask for: beyond that the number is a typo.
    static let maxRate = 10_000.0

    /// `50/s` or `50`: more than 0 (an unthrottled replay is the default without --rate) and at most `maxRate`.
    static func rate(_ value: String?, _ flag: String) throws {
        guard let value else { return }
        let number = value.lowercased().trimmingCharacters(in: .whitespaces)
        let digits = number.hasSuffix("/s") ? String(number.dropLast(2)) : number
        guard let rate = Double(digits), rate.isFinite, digits.allSatisfy({ $0.isNumber || $0 == "." }) else {
            throw ValidationError("\(flag) '\(value)' is not events per second, like 50/s")
        }
        guard rate > 0 else { throw ValidationError("\(flag) must be more than 0/s (leave it out for no limit), e.g. \(flag) 50/s") }
        guard rate <= maxRate else { throw ValidationError("\(flag) '\(value)' is above the maximum of \(Int(maxRate))/s") }
    }
}
