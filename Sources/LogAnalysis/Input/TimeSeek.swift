import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `--since 15m` on a 1 GB log must not read the gigabyte: log files are written in time order, so
/// the first line worth reading is found by binary search over byte offsets — read a small block at
/// an offset, resync to the next line start, parse that line's time — in about log2(size / block)
/// probes. Only plain regular files are searched (a pipe or a `.gz` cannot seek), and only when the
/// file looks ordered (its first line is not newer than its last); the search stops `slackMs` early
/// so lines written slightly out of order near the bound are still read, and every line read is
/// filtered by time as usual. A probe without a parseable time gives up: the whole file is read.
enum TimeSeek {
    static let blockBytes = 64 << 10
    static let slackMs: Int64 = 60_000

    /// A line start before which every line is older than `fromMs - slackMs` (0 when unsure).
    static func start(of input: InputReader, size: Int, fromMs: Int64, format: LogFormat) throws -> Int {
        guard size > 4 * blockBytes else { return 0 }
        let target = fromMs - slackMs
        let block = UnsafeMutableRawPointer.allocate(byteCount: blockBytes + 64, alignment: 64)
        defer { block.deallocate() }
        let parser = format == .json ? JSONLines(groupBy: nil, latencyField: nil) : nil

        /// The first line starting at or after `offset` (0 means the file's first line) with its time.
        func probe(_ offset: Int) throws -> (start: Int, time: Int64)? {
            let n = try input.read(at: offset, into: block, count: blockBytes)
            memset(block + n, 0, 64) // simdjson's padding
            let bytes = UnsafeRawBufferPointer(start: block, count: n)
            var at = 0
            if offset > 0 {
                // Resync: skip the rest of the line the offset fell into.
                guard let nl = memchr(block, 0x0A, n) else { return nil }
                at = block.distance(to: nl) + 1
            }
            // The first few lines after the resync: one of them carries a time.
            var lineStart = at
            for _ in 0..<8 {
                guard lineStart < n, let nl = memchr(block + lineStart, 0x0A, n - lineStart) else { return nil }
                let end = block.distance(to: nl)
                let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<end])
                if let t = time(of: line, format: format, parser: parser) { return (offset + lineStart, t) }
                lineStart = end + 1
            }
            return nil
        }

        guard let first = try probe(0), first.time < target,
              let last = try probe(size - blockBytes), last.time >= first.time else { return 0 }
        if last.time < target { return last.start }
        // Invariant: the line at `lo` is older than the target; the first line after `hi` is not.
        var lo = first.start, hi = size - blockBytes
        while hi - lo > blockBytes {
            let mid = lo + (hi - lo) / 2
            guard let p = try probe(mid) else { return 0 }
            if p.time < target && p.start < hi { lo = p.start } else { hi = mid }
        }
        return lo
    }

    static func time(of line: UnsafeRawBufferPointer, format: LogFormat, parser: JSONLines?) -> Int64? {
        var event = LineEvent(line: line, offset: 0)
        switch format {
        case .json:
            // JSONLines needs CS_PADDING readable bytes after the line: the block always has them.
            var found: Int64?
            parser?.scan(line, startOffset: 0, maxLine: line.count + 1, parsed: { e in
                if e.timeMs != LineEvent.noTime { found = e.timeMs }
            }, unparsed: { _, _, _ in })
            return found
        case .logfmt:
            LogfmtLine.parse(&event, groupKey: nil, latencyKey: nil)
        case .plain:
            PlainTextLine.parse(&event)
        }
        return event.timeMs == LineEvent.noTime ? nil : event.timeMs
    }
}
