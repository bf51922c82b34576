import CSimdJSON
import Foundation

/// One simdjson parser and its record batch, owned by one worker thread.
final class JSONLines {
    static let batch: Int32 = 4096
    let parser: OpaquePointer
    let records: UnsafeMutablePointer<cs_record>
    /// Index of the group-by and latency fields among the parser's requested fields (-1: not requested).
    let groupIndex: Int
    let latencyIndex: Int

    init(groupBy: String?, latencyField: String?, portable: Bool = false) {
        let names = [groupBy, latencyField].compactMap { $0 }
        groupIndex = groupBy == nil ? -1 : 0
        latencyIndex = latencyField == nil ? -1 : (groupBy == nil ? 0 : 1)
        let cStrings = names.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = cStrings.map { $0.map { UnsafePointer($0) } }
        parser = pointers.withUnsafeMutableBufferPointer { cs_parser_new($0.baseAddress, Int32(names.count)) }!
        if portable { _ = cs_parser_set_portable(parser, 1) }
        records = .allocate(capacity: Int(Self.batch))
    }

    /// Copies of the lines a mapped segment hands back, at their offsets (pages touched only where used).
    private var shadowBuffer: UnsafeMutableBufferPointer<CChar>?

    deinit {
        cs_parser_free(parser)
        records.deallocate()
        shadowBuffer?.deallocate()
    }

    func shadow(for count: Int) -> UnsafeMutableBufferPointer<CChar> {
        if let s = shadowBuffer, s.count >= count { return s }
        shadowBuffer?.deallocate()
        let s = UnsafeMutableBufferPointer<CChar>.allocate(capacity: count + Int(CS_PADDING))
        shadowBuffer = s
        return s
    }

    /// Parses every line of `buffer` (which has CS_PADDING readable bytes after its end) and hands
    /// each parsed line, or each failure, to the callbacks.
    func scan(_ buffer: UnsafeRawBufferPointer, startOffset: Int, maxLine: Int,
              parsed: (inout LineEvent) -> Void, unparsed: (UnsafeRawBufferPointer, Int, UnparsedReason) -> Void) {
        guard let base = buffer.baseAddress?.assumingMemoryBound(to: CChar.self) else { return }
        let raw = UnsafeRawPointer(base)
        var pos = 0
        while pos < buffer.count {
            let n = Int(cs_parse_lines(parser, base, buffer.count, &pos, records, Self.batch, maxLine))
            for k in 0..<n {
                deliver(records[k], raw, startOffset: startOffset, parsed: parsed, unparsed: unparsed)
            }
        }
    }

    /// Hands one record of the last batch to the callbacks (its arena spans are valid until the next batch).
    @inline(__always)
    func deliver(_ r: cs_record, _ raw: UnsafeRawPointer, startOffset: Int,
                 parsed: (inout LineEvent) -> Void, unparsed: (UnsafeRawBufferPointer, Int, UnparsedReason) -> Void) {
        let arena = cs_arena(parser).map { UnsafeRawPointer($0) }
        func span(_ s: cs_span) -> UnsafeRawBufferPointer? {
            if s.len == CS_ABSENT_LEN { return nil }
            if s.off & CS_ARENA_BIT != 0 {
                return UnsafeRawBufferPointer(start: arena! + Int(s.off & ~CS_ARENA_BIT), count: Int(s.len))
            }
            return UnsafeRawBufferPointer(start: raw + Int(s.off), count: Int(s.len))
        }
        let line = UnsafeRawBufferPointer(start: raw + Int(r.line_off), count: Int(r.line_len))
        let offset = startOffset + Int(r.line_off)
        switch Int32(r.status) {
        case Int32(CS_OK.rawValue):
            var e = LineEvent(line: line, offset: offset)
            e.level = r.level
            if r.time_ms != Int64.min { e.timeMs = r.time_ms }
            e.message = span(r.msg)
            if groupIndex >= 0 {
                let (kind, value) = Self.field(r, groupIndex)
                if kind != UInt8(CS_KIND_ABSENT.rawValue) { e.group = span(value) }
            }
            if latencyIndex >= 0 {
                let (kind, value) = Self.field(r, latencyIndex)
                if kind == UInt8(CS_KIND_NUMBER.rawValue) { e.latency = latencyIndex == 0 ? r.field_num.0 : r.field_num.1 }
                else if kind == UInt8(CS_KIND_STRING.rawValue), let d = span(value)?.doubleValue { e.latency = d }
            }
            parsed(&e)
        case Int32(CS_EMPTY.rawValue):
            return
        case Int32(CS_TOO_LONG.rawValue):
            unparsed(line, offset, .tooLong)
        case Int32(CS_NOT_OBJECT.rawValue):
            unparsed(line, offset, .notJSON)
        default:
            unparsed(line, offset, Self.isValidUTF8(line) ? .malformedJSON : .invalidUTF8)
        }
    }

    @inline(__always)
    static func field(_ r: cs_record, _ i: Int) -> (UInt8, cs_span) {
        i == 0 ? (r.field_kind.0, r.field.0) : (r.field_kind.1, r.field.1)
    }

    static func isValidUTF8(_ line: UnsafeRawBufferPointer) -> Bool {
        var it = line.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&it) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
