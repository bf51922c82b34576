/// Severity on the pino scale (10 trace … 60 fatal), the common denominator of the formats we read.
public enum LogLevel: Int, Sendable, CaseIterable, Codable, Comparable {
    case unknown = 0, trace = 10, debug = 20, info = 30, warn = 40, error = 50, fatal = 60

    /// Buckets any numeric level (custom pino levels included) onto the six names.
    public init(pino value: Int) {
        switch value {
        case ..<1: self = .unknown
        case ..<20: self = .trace
        case ..<30: self = .debug
        case ..<40: self = .info
        case ..<50: self = .warn
        case ..<60: self = .error
        default: self = .fatal
        }
    }

    /// `warn`, `WARNING`, `err`, `critical`, `50` …; nil when not a level.
    public init?(word: String) {
        if let n = Int(word) { self.init(pino: n); return }
        let value = Int(LevelWords.level(Array(word.utf8)))
        guard value > 0 else { return nil }
        self.init(pino: value)
    }

    public var name: String {
        switch self {
        case .unknown: return "unknown"
        case .trace: return "trace"
        case .debug: return "debug"
        case .info: return "info"
        case .warn: return "warn"
        case .error: return "error"
        case .fatal: return "fatal"
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }

    /// Index into per-level counters.
    var slot: Int { rawValue / 10 }
}

/// Level words of pino/bunyan, winston, syslog and log4j (same table as the C scanner).
enum LevelWords {
    static func level<C: Collection<UInt8>>(_ w: C) -> UInt8 {
        guard w.count >= 3, w.count <= 11 else { return 0 }
        var lower = [UInt8](); lower.reserveCapacity(w.count)
        for b in w { lower.append(b >= 65 && b <= 90 ? b + 32 : b) }
        switch String(decoding: lower, as: UTF8.self) {
        case "info", "information", "notice", "http": return 30
        case "error", "err": return 50
        case "warn", "warning": return 40
        case "debug", "verbose": return 20
        case "trace", "silly": return 10
        case "fatal", "critical", "crit", "panic", "emerg", "emergency", "alert": return 60
        default: return 0
        }
    }
}
