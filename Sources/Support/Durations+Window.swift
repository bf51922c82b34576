import Foundation

extension DurationText {
    /// A window's length as an operator writes it: `15m`, `1h`, `24h`, `7d`, `90s`.
    public static func window(seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 172_800, s % 86_400 == 0 { return "\(s / 86_400)d" }
        if s >= 3600, s % 3600 == 0 { return "\(s / 3600)h" }
        if s >= 60, s % 60 == 0 { return "\(s / 60)m" }
        return "\(s)s"
    }
}
