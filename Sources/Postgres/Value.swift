import Foundation

/// One decoded column value. Decoding follows the column type OID of the text-format result.
public enum PostgresValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case text(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case timestamp(Date)
    /// Interval in seconds (months count as 30 days, years as 365.25 days).
    case interval(Double)
    /// json/jsonb, kept as its text.
    case json(String)
    case array([PostgresValue])

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public var string: String? {
        switch self {
        case .null: return nil
        case let .text(s), let .json(s): return s
        case let .int(i): return String(i)
        case let .double(d): return String(d)
        case let .bool(b): return b ? "true" : "false"
        case let .timestamp(d): return ISO8601DateFormatter().string(from: d)
        case let .interval(s): return String(s)
        case let .array(a): return "{" + a.map { $0.string ?? "NULL" }.joined(separator: ",") + "}"
        }
    }

    public var int: Int? {
        switch self {
        case let .int(i): return Int(i)
        case let .double(d): return d.isFinite ? Int(d) : nil
        case let .text(s): return Int(s)
        case let .bool(b): return b ? 1 : 0
        default: return nil
        }
    }

    public var double: Double? {
        switch self {
        case let .int(i): return Double(i)
        case let .double(d): return d
        case let .interval(s): return s
        case let .text(s): return Double(s)
        case let .timestamp(d): return d.timeIntervalSince1970
        default: return nil
        }
    }

    public var bool: Bool? {
        switch self {
        case let .bool(b): return b
        case let .int(i): return i != 0
        case let .text(s): return ["t", "true", "yes", "on", "1"].contains(s.lowercased())
        default: return nil
        }
    }

    public var date: Date? { if case let .timestamp(d) = self { return d } else { return nil } }
    public var array: [PostgresValue]? { if case let .array(a) = self { return a } else { return nil } }

    public var description: String { string ?? "NULL" }
}

/// Text-format decoders for the types opsctl reads; unknown types stay text.
enum PostgresDecoder {
    static func decode(_ raw: String, oid: UInt32) -> PostgresValue {
        switch oid {
        case 16: return .bool(raw == "t")
        case 20, 21, 23, 26: return Int64(raw).map(PostgresValue.int) ?? .text(raw)
        case 700, 701, 1700:
            return Double(raw).map(PostgresValue.double) ?? .text(raw)
        case 1114, 1184: return parseTimestamp(raw).map(PostgresValue.timestamp) ?? .text(raw)
        case 1186: return parseInterval(raw).map(PostgresValue.interval) ?? .text(raw)
        case 114, 3802: return .json(raw)
        case 1000: return array(raw) { .bool($0 == "t") }
        case 1005, 1007, 1016: return array(raw) { Int64($0).map(PostgresValue.int) ?? .text($0) }
        case 1021, 1022, 1231: return array(raw) { Double($0).map(PostgresValue.double) ?? .text($0) }
        case 1009, 1015, 1014, 1003, 2951: return array(raw) { .text($0) }
        case 199, 3807: return array(raw) { .json($0) }
        case 1115, 1185: return array(raw) { parseTimestamp($0).map(PostgresValue.timestamp) ?? .text($0) }
        default: return .text(raw)
        }
    }

    /// `2026-11-24 11:17:33.123456+00` (DateStyle=ISO, TimeZone=UTC are set on connect).
    static func parseTimestamp(_ s: String) -> Date? {
        let u = Array(s.utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= u.count else { return nil }
            var v = 0
            for i in from..<(from + len) {
                let c = u[i]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        // Fixed layout only: 5-digit years and BC dates do not fit a Date round trip, they stay text.
        guard u.count >= 19, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"), u[13] == UInt8(ascii: ":"),
              u[16] == UInt8(ascii: ":"), !s.hasSuffix(" BC"),
              let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2),
              let h = num(11, 2), let mi = num(14, 2), let se = num(17, 2) else { return nil }
        var i = 19
        var fraction = 0.0
        if i < u.count, u[i] == UInt8(ascii: ".") {
            var scale = 0.1
            i += 1
            while i < u.count, u[i] >= 48, u[i] <= 57 {
                fraction += Double(u[i] - 48) * scale
                scale /= 10
                i += 1
            }
        }
        var offset = 0
        if i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            let sign = u[i] == UInt8(ascii: "+") ? 1 : -1
            let oh = num(i + 1, 2) ?? 0
            var om = 0
            if i + 3 < u.count, u[i + 3] == UInt8(ascii: ":") { om = num(i + 4, 2) ?? 0 }
            offset = sign * (oh * 3600 + om * 60)
        }
        var t = tm()
        t.tm_year = Int32(y - 1900)
        t.tm_mon = Int32(mo - 1)
        t.tm_mday = Int32(d)
        t.tm_hour = Int32(h)
        t.tm_min = Int32(mi)
        t.tm_sec = Int32(se)
        let epoch = timegm(&t)
        return Date(timeIntervalSince1970: Double(epoch - offset) + fraction)
    }

    /// ISO 8601 intervals (IntervalStyle=iso_8601 is set on connect): `P1Y2M3DT4H5M6.5S`, `PT-0.5S`.
    static func parseInterval(_ s: String) -> Double? {
        guard s.hasPrefix("P") else { return nil }
        var total = 0.0
        var number = ""
        var inTime = false
        for c in s.dropFirst() {
            if c == "T" { inTime = true; continue }
            if c.isNumber || c == "." || c == "-" || c == "+" { number.append(c); continue }
            guard let v = Double(number) else { return nil }
            number = ""
            switch (c, inTime) {
            case ("Y", false): total += v * 365.25 * 86400
            case ("M", false): total += v * 30 * 86400
            case ("W", false): total += v * 7 * 86400
            case ("D", false): total += v * 86400
            case ("H", true): total += v * 3600
            case ("M", true): total += v * 60
            case ("S", true): total += v
            default: return nil
            }
        }
        return number.isEmpty ? total : nil
    }

    /// An array literal decoded element by element; nested (multi-dimensional) arrays become nested
    /// `.array`s, and a leading dimension decoration (`[0:2]=`) is skipped.
    static func array(_ raw: String, element: (String) -> PostgresValue) -> PostgresValue {
        guard let node = parseArrayLiteral(raw) else { return .text(raw) }
        func convert(_ node: ArrayNode) -> PostgresValue {
            switch node {
            case .null: return .null
            case let .element(text): return element(text)
            case let .array(items): return .array(items.map(convert))
            }
        }
        return convert(node)
    }

    enum ArrayNode: Equatable {
        case null
        case element(String)
        case array([ArrayNode])
    }

    /// Parses `{a,"b c",NULL,"x\"y",{1,2}}`. Returns nil when the text is not an array literal.
    static func parseArrayLiteral(_ s: String) -> ArrayNode? {
        var chars = Substring(s)
        if chars.first == "[", let equals = chars.firstIndex(of: "=") {
            chars = chars[chars.index(after: equals)...]
        }
        let c = Array(chars)
        var i = 0

        func parseArray() -> ArrayNode? {
            guard i < c.count, c[i] == "{" else { return nil }
            i += 1
            var items: [ArrayNode] = []
            if i < c.count, c[i] == "}" { i += 1; return .array([]) }
            while i < c.count {
                if c[i] == "{" {
                    guard let nested = parseArray() else { return nil }
                    items.append(nested)
                } else if c[i] == "\"" {
                    i += 1
                    var item = ""
                    while i < c.count, c[i] != "\"" {
                        if c[i] == "\\", i + 1 < c.count { i += 1 }
                        item.append(c[i])
                        i += 1
                    }
                    guard i < c.count else { return nil }
                    i += 1
                    items.append(.element(item))
                } else {
                    var item = ""
                    while i < c.count, c[i] != ",", c[i] != "}" {
                        if c[i] == "\\", i + 1 < c.count { i += 1 }
                        item.append(c[i])
                        i += 1
                    }
                    items.append(item == "NULL" ? .null : .element(item))
                }
                guard i < c.count else { return nil }
                if c[i] == "," { i += 1; continue }
                if c[i] == "}" { i += 1; return .array(items) }
                return nil
            }
            return nil
        }

        guard let node = parseArray(), i == c.count else { return nil }
        return node
    }
}
