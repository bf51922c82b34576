import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

/// Streams log files through one worker per core and answers `logs analyze`:
/// `try LogAnalyzer(options).analyze(paths: ["app.log", "old.log.gz"])` (`-` or no path: stdin).
public struct LogAnalyzer: Sendable {
    public var options: LogAnalysisOptions

    public init(_ options: LogAnalysisOptions = LogAnalysisOptions()) {
        self.options = options
    }

    public func analyze(paths: [String]) throws -> LogReport {
        let inputs = paths.isEmpty ? ["-"] : paths
        let options = self.options
        let queue = SegmentQueue(buffers: options.workers + 2, capacity: options.chunkBytes + options.maxLineBytes + 1)
        var states = try (0..<options.workers).map { _ in try ScanState(options: options) }
        let reader = try ScanState(options: options)
        let workers = ScanThreads()
        for state in states {
            workers.start { Self.work(queue: queue, state: state, options: options) }
        }
        PhaseClock.mark("logs: workers started")
        var files: [LogReport.FileSummary] = []
        var failure: Error?
        do {
            for (index, path) in inputs.enumerated() {
                files.append(try Self.produce(path: path, file: index, queue: queue, state: reader, options: options))
            }
        } catch {
            failure = error
        }
        queue.close()
        workers.join()
        PhaseClock.mark("logs: scan done")
        if let failure { throw failure }
        reader.end()
        // In order, each worker's state released once merged: the tables `reader` took over from the
        // first are then its own, and the next ones are added to them in place instead of copied on
        // write first (0.5 ms of the serial end with the dense latency counts).
        while !states.isEmpty { reader.merge(states.removeFirst()) }
        PhaseClock.mark("logs: merged")
        for i in files.indices {
            files[i].bytes -= reader.lostBytesPerFile[i] ?? 0
            let counts = reader.perFile[i] ?? (0, 0)
            files[i].lines = counts.lines
            files[i].unparsed = counts.unparsed
        }
        return ReportBuilder.build(reader, files: files, inputs: inputs, options: options)
    }

    /// Reads one input into segments of whole lines; lines too long for a buffer are counted
    /// here and skipped without being held in memory.
    static func produce(path: String, file: Int, queue: SegmentQueue, state: ScanState,
                        options: LogAnalysisOptions) throws -> LogReport.FileSummary {
        let input = try InputReader(path: path)
        state.begin(file: file)
        defer { state.end() }
        let chunk = options.chunkBytes, capacity = queue.capacity
        var format = options.format
        var buffer: UnsafeMutableRawPointer? = queue.takeFree()
        defer { if let buffer { queue.giveBack(UInt(bitPattern: buffer)) } }
        var fill = 0, offset = 0, skipping = false, total = 0, skipped = 0
        // A lower time bound on a plain file: start at the first line that can be in range.
        if let from = options.timeRange.from, input.isSeekable, let size = input.regularFileSize {
            let f = format ?? FormatDetector.detect(UnsafeRawBufferPointer(rebasing: input.head.prefix(1 << 16)))
            let start = try TimeSeek.start(of: input, size: size, fromMs: from, format: f)
            if start > 0 {
                try input.seek(to: start)
                offset = start
                skipped = start
                format = f
            }
        }
        // A large plain JSON file (counted by the scanner: no --grep) is scanned in place, mapped.
        if (format ?? FormatDetector.detect(UnsafeRawBufferPointer(rebasing: input.head.prefix(1 << 16)))) == .json,
           !state.filter.hasRegex, input.isSeekable, let size = input.regularFileSize, size - offset > 2 * chunk + MappedFile.tail,
           let mapped = MappedFile(path: path, size: size), let end = mapped.mappedEnd(from: offset) {
            format = .json
            var start = offset
            while start < end {
                // Segments shrink toward the end (to 1 MB) so the workers run out of work together
                // instead of one scanning a last 4 MB while the others wait.
                let size = max(min(chunk, (end - start) / (2 * max(1, options.workers))), min(chunk, 1 << 20))
                guard let stop = mapped.segmentEnd(start: start, chunk: size, end: end) else { break }
                let slot = queue.takeFree()
                queue.put(Segment(buffer: UInt(bitPattern: slot), length: stop - start, file: file, offset: start, format: .json,
                                  mapped: mapped))
                if start == offset { PhaseClock.mark("logs: first mapped segment queued") }
                start = stop
                options.afterMappedSegment?()
            }
            total += start - offset
            offset = start
            try input.seek(to: offset)
        }
        while let buf = buffer {
            var eof = false
            while fill < chunk {
                let n = try input.read(into: buf + fill, max: capacity - fill)
                if n == 0 { eof = true; break }
                total += n
                if skipping {
                    if let nl = memchr(buf + fill, 0x0A, n) {
                        let cut = buf.distance(to: nl) + 1
                        memmove(buf, buf + cut, fill + n - cut)
                        offset += cut
                        fill = fill + n - cut
                        skipping = false
                    } else {
                        offset += fill + n
                        fill = 0
                    }
                    continue
                }
                fill += n
            }
            if fill == 0 && eof { break }
            if format == nil {
                format = FormatDetector.detect(UnsafeRawBufferPointer(start: buf, count: min(fill, 1 << 16)))
            }
            if eof {
                queue.put(Segment(buffer: UInt(bitPattern: buf), length: fill, file: file, offset: offset, format: format!))
                buffer = nil
                break
            }
            guard let nl = Self.lastNewline(buf, fill) else {
                state.recordUnparsed(UnsafeRawBufferPointer(start: buf, count: min(fill, 256)), offset: offset, reason: .tooLong)
                skipping = true
                offset += fill
                fill = 0
                continue
            }
            let length = buf.distance(to: nl) + 1
            let next = queue.takeFree()
            next.copyMemory(from: buf + length, byteCount: fill - length)
            queue.put(Segment(buffer: UInt(bitPattern: buf), length: length, file: file, offset: offset, format: format!))
            buffer = next
            offset += length
            fill -= length
        }
        return .init(path: path, format: format ?? .plain, compressed: input.compressed, bytes: total, lines: 0, unparsed: 0,
                     skippedBytes: skipped, probedBytes: input.probedBytes)
    }

    static func lastNewline(_ p: UnsafeMutableRawPointer, _ n: Int) -> UnsafeMutableRawPointer? {
        let bytes = p.assumingMemoryBound(to: UInt8.self)
        var i = n - 1
        while i >= 0 {
            if bytes[i] == 0x0A { return p + i }
            i -= 1
        }
        return nil
    }

    static func work(queue: SegmentQueue, state: ScanState, options: LogAnalysisOptions) {
        var json: JSONLines?
        // Without --grep the scanner counts the plain lines itself.
        var tally: LineTally?
        let groupKey = options.groupBy.map { Array($0.utf8) }
        let latencyKey = options.latencyField.map { Array($0.utf8) }
        while let segment = queue.next() {
            state.begin(file: segment.file)
            let bytes = segment.bytes
            switch segment.format {
            case .json:
                if json == nil {
                    json = JSONLines(groupBy: options.groupBy, latencyField: options.latencyField,
                                     portable: options.portableScanner)
                    if !state.filter.hasRegex { tally = LineTally(json: json!, state: state) }
                }
                if let tally {
                    if let mapped = segment.mapped {
                        Self.scanMapped(segment, mapped, json: json!, tally: tally, state: state, options: options,
                                        slotCapacity: queue.capacity)
                    } else {
                        json!.tally(bytes, startOffset: segment.offset, maxLine: options.maxLineBytes, tally: tally, state: state)
                    }
                    queue.giveBack(segment.buffer)
                    continue
                }
                json!.scan(bytes, startOffset: segment.offset, maxLine: options.maxLineBytes,
                           parsed: { state.consume(&$0) },
                           unparsed: { state.recordUnparsed($0, offset: $1, reason: $2) })
            case .plain, .logfmt:
                TextLines.scan(bytes, startOffset: segment.offset, maxLine: options.maxLineBytes, state: state) { event in
                    if segment.format == .logfmt {
                        LogfmtLine.parse(&event, groupKey: groupKey, latencyKey: latencyKey)
                    } else {
                        PlainTextLine.parse(&event)
                    }
                }
            }
            queue.giveBack(segment.buffer)
        }
        if let tally { state.absorbLatencies(tally.pointer) }
        state.end()
    }
}

extension LogAnalyzer {
    /// Scans a mapped segment in place; if the file was truncated under it, reads what is left of the
    /// segment with pread into its pool slot and scans that, and counts the bytes that were gone.
    static func scanMapped(_ segment: Segment, _ mapped: MappedFile, json: JSONLines, tally: LineTally, state: ScanState,
                           options: LogAnalysisOptions, slotCapacity: Int) {
        mapped.populate(offset: segment.offset, count: segment.length)
        let stopped = json.tallyMapped(segment.bytes, startOffset: segment.offset, maxLine: options.maxLineBytes,
                                       tally: tally, state: state)
        mapped.release(offset: segment.offset, count: segment.length)
        guard let at = stopped else { return }
        let want = min(segment.length - at, slotCapacity)
        let slot = UnsafeMutableRawPointer(bitPattern: segment.buffer)!
        let got = mapped.read(at: segment.offset + at, into: slot, count: want)
        if got > 0 {
            json.tally(UnsafeRawBufferPointer(start: slot, count: got), startOffset: segment.offset + at,
                       maxLine: options.maxLineBytes, tally: tally, state: state)
        }
        state.lostBytesPerFile[segment.file, default: 0] += segment.length - at - got
    }
}

/// Splits a segment of text lines and screens out what cannot be analysed.
enum TextLines {
    static func scan(_ bytes: UnsafeRawBufferPointer, startOffset: Int, maxLine: Int, state: ScanState,
                     parse: (inout LineEvent) -> Void) {
        guard let base = bytes.baseAddress else { return }
        var at = 0
        let n = bytes.count
        while at < n {
            let end = memchr(base + at, 0x0A, n - at).map { base.distance(to: UnsafeRawPointer($0)) } ?? n
            var len = end - at
            if len > 0 && bytes[end - 1] == 0x0D { len -= 1 }
            let line = UnsafeRawBufferPointer(start: base + at, count: len)
            let offset = startOffset + at
            at = end + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            if len > maxLine { state.recordUnparsed(line, offset: offset, reason: .tooLong); continue }
            if line.contains(where: { $0 >= 0x80 || $0 == 0 }) {
                if line.contains(0) { state.recordUnparsed(line, offset: offset, reason: .binary); continue }
                if !JSONLines.isValidUTF8(line) { state.recordUnparsed(line, offset: offset, reason: .invalidUTF8); continue }
            }
            var event = LineEvent(line: line, offset: offset)
            parse(&event)
            state.consume(&event)
        }
    }
}
