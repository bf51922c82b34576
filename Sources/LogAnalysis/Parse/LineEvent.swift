/// What a parser extracted from one line; the pointers are valid only while the line is handled.
struct LineEvent {
    static let noTime = Int64.min

    var line: UnsafeRawBufferPointer
    /// Byte offset of the line in its (decompressed) input.
    var offset: Int
    /// Pino scale, 0 when unknown.
    var level: UInt8 = 0
    var timeMs: Int64 = noTime
    /// The message; nil when the line has none (the whole line is fingerprinted then).
    var message: UnsafeRawBufferPointer?
    var group: UnsafeRawBufferPointer?
    var latency: Double = .nan
    var marker: Marker = .none

    init(line: UnsafeRawBufferPointer, offset: Int) {
        self.line = line
        self.offset = offset
    }
}

/// The runbooks' status markers.
enum Marker: UInt8 {
    case none, ok, warn, fail

    /// ✅ (E2 9C 85), ⚠ (E2 9A A0, usually followed by U+FE0F), ❌ (E2 9D 8C): first one wins.
    static func find(in line: UnsafeRawBufferPointer) -> Marker {
        let n = line.count
        guard n >= 3 else { return .none }
        var i = 0
        while i + 2 < n {
            if line[i] == 0xE2 {
                let b1 = line[i + 1], b2 = line[i + 2]
                if b1 == 0x9C && b2 == 0x85 { return .ok }
                if b1 == 0x9A && b2 == 0xA0 { return .warn }
                if b1 == 0x9D && b2 == 0x8C { return .fail }
            }
            i += 1
        }
        return .none
    }

    var level: UInt8 {
        switch self {
        case .none: return 0
        case .ok: return 30
        case .warn: return 40
        case .fail: return 50
        }
    }
}

/// Why a line was not analysed.
enum UnparsedReason: String {
    case malformedJSON = "malformed JSON"
    case notJSON = "not a JSON object"
    case tooLong = "line longer than the limit"
    case invalidUTF8 = "invalid UTF-8"
    case binary = "binary data (NUL bytes)"
}

extension UnsafeRawBufferPointer {
    /// A numeric value written as text (`"123.5"`, `12ms` is not a number).
    var doubleValue: Double? {
        guard count > 0, count < 64 else { return nil }
        return withMemoryRebound(to: UInt8.self) { Double(String(decoding: $0, as: UTF8.self)) }
    }
}
