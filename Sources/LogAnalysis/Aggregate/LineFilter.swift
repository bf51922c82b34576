import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `--since/--from/--to`, `--level` and `--grep` filters, one instance per worker
/// (a compiled POSIX regex is not shared between threads).
final class LineFilter {
    let from: Int64?
    let to: Int64?
    let minLevel: UInt8
    private var regex = regex_t()
    let hasRegex: Bool

    init(options: LogAnalysisOptions) throws {
        let range = options.timeRange
        from = range.from
        to = range.to
        minLevel = UInt8(options.minLevel?.rawValue ?? 0)
        if let pattern = options.grep {
            let rc = regcomp(&regex, pattern, REG_EXTENDED | REG_NOSUB)
            guard rc == 0 else {
                var message = [CChar](repeating: 0, count: 256)
                regerror(rc, &regex, &message, message.count)
                throw LogAnalysisError("--grep '\(pattern)': \(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
            }
            hasRegex = true
        } else {
            hasRegex = false
        }
    }

    deinit { if hasRegex { regfree(&regex) } }

    var filtersTime: Bool { from != nil || to != nil }

    /// The regex runs on the raw line without copying it (REG_STARTEND bounds it).
    func matches(_ line: UnsafeRawBufferPointer) -> Bool {
        guard hasRegex else { return true }
        guard let base = line.baseAddress?.assumingMemoryBound(to: CChar.self) else {
            return regexec(&regex, "", 0, nil, 0) == 0
        }
        var m = regmatch_t(rm_so: 0, rm_eo: regoff_t(line.count))
        return regexec(&regex, base, 1, &m, REG_STARTEND) == 0
    }

    @inline(__always)
    func inRange(_ timeMs: Int64) -> Bool {
        if timeMs == Int64.min { return false }
        if let from, timeMs < from { return false }
        if let to, timeMs >= to { return false }
        return true
    }
}
