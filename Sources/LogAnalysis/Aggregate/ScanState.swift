/// Everything one worker has counted; merged into one at the end. Owned by a single
/// thread while scanning, hence `@unchecked Sendable`.
final class ScanState: @unchecked Sendable {
    struct FingerprintEntry: CappedEntry {
        var text: String
        var count: Int
        var level: UInt8
        var first: Int64
        var last: Int64
        var example: String
        /// (file, offset) of the example: the earliest line wins, whatever worker saw it.
        var exampleOrder: Int

        mutating func merge(_ o: FingerprintEntry) {
            count += o.count
            level = max(level, o.level)
            first = min(first, o.first)
            last = last == LineEvent.noTime ? o.last : (o.last == LineEvent.noTime ? last : max(last, o.last))
            if o.exampleOrder < exampleOrder { example = o.example; exampleOrder = o.exampleOrder }
        }
    }

    struct GroupEntry: CappedEntry {
        var value: String
        var count: Int
        var errors: Int
        var latencySum: Double
        var latencyCount: Int

        mutating func merge(_ o: GroupEntry) {
            count += o.count
            errors += o.errors
            latencySum += o.latencySum
            latencyCount += o.latencyCount
        }
    }

    struct Unparsed {
        var order: Int
        var offset: Int
        var file: Int
        var reason: UnparsedReason
        var text: String
    }

    static let exampleBytes = 200
    static let exampleLineBytes = 400
    static let unparsedExamples = 5
    /// Files are told apart in `order` by the high bits (offsets stay below 2^44 = 16 TiB).
    static let fileShift = 44

    let filter: LineFilter
    let fingerprintLevel: UInt8
    var lines = 0
    var matched = 0
    var filteredOut = 0
    var unparsed = 0
    var levelCounts = [Int](repeating: 0, count: 7)
    var markers = LogReport.Markers()
    var minTime = Int64.max
    var maxTime = Int64.min
    var windows: WindowCounter
    var fingerprints: CappedTable<FingerprintEntry>
    var groups: CappedTable<GroupEntry>
    var latency: LatencyDigest
    var unparsedSamples: [Unparsed] = []
    /// Per input file: (lines, unparsed).
    var perFile: [Int: (lines: Int, unparsed: Int)] = [:]
    /// Per input file: bytes of mapped segments that a truncation took away before they were scanned.
    var lostBytesPerFile: [Int: Int] = [:]
    private var fingerprinter = Fingerprinter()
    let masking = LineMasking()
    private(set) var currentFile = -1
    var fileLines = 0
    private var fileUnparsed = 0

    init(options: LogAnalysisOptions) throws {
        filter = try LineFilter(options: options)
        fingerprintLevel = UInt8(options.minLevel.map { max($0, .trace) }?.rawValue ?? LogLevel.error.rawValue)
        windows = WindowCounter(widthSeconds: options.window)
        fingerprints = CappedTable(cap: options.tableCap)
        groups = CappedTable(cap: options.tableCap)
        latency = LatencyDigest(exactLimit: options.exactLatencyLimit)
    }

    /// Starts counting lines for another file (a segment belongs to one file).
    func begin(file: Int) {
        guard file != currentFile else { return }
        end()
        currentFile = file
    }

    /// Flushes the per-file counters.
    func end() {
        if currentFile >= 0 {
            let e = perFile[currentFile, default: (0, 0)]
            perFile[currentFile] = (e.lines + fileLines, e.unparsed + fileUnparsed)
        }
        fileLines = 0
        fileUnparsed = 0
        currentFile = -1
        windows.flush()
    }

    func recordUnparsed(_ line: UnsafeRawBufferPointer, offset: Int, reason: UnparsedReason) {
        lines += 1
        unparsed += 1
        fileLines += 1
        fileUnparsed += 1
        let order = (currentFile << Self.fileShift) | offset
        if unparsedSamples.count < Self.unparsedExamples || order < unparsedSamples.last!.order {
            let text = masking.needsMasking(line) ? LineMasking.head(masking.mask(line), Self.exampleBytes)
                : String(decoding: UnsafeRawBufferPointer(rebasing: line.prefix(Self.exampleBytes)), as: UTF8.self)
            unparsedSamples.append(Unparsed(order: order, offset: offset, file: currentFile, reason: reason, text: text))
            unparsedSamples.sort { $0.order < $1.order }
            if unparsedSamples.count > Self.unparsedExamples { unparsedSamples.removeLast() }
        }
    }

    @inline(__always)
    func consume(_ e: inout LineEvent) {
        lines += 1
        fileLines += 1
        if filter.hasRegex && !filter.matches(e.line) { filteredOut += 1; return }
        if filter.filtersTime && !filter.inRange(e.timeMs) { filteredOut += 1; return }
        if e.level < filter.minLevel { filteredOut += 1; return }
        matched += 1
        let level = LogLevel(pino: Int(e.level))
        levelCounts[level.slot] += 1
        let isError = e.level >= 50
        if e.timeMs != LineEvent.noTime {
            if e.timeMs < minTime { minTime = e.timeMs }
            if e.timeMs > maxTime { maxTime = e.timeMs }
            windows.add(e.timeMs, error: isError)
        }
        switch e.marker {
        case .none: break
        case .ok: markers.ok += 1
        case .warn: markers.warn += 1
        case .fail: markers.fail += 1
        }
        if e.level >= fingerprintLevel { countFingerprint(e) }
        if let g = e.group { countGroup(g, error: isError, latency: e.latency, line: e.line) }
        if !e.latency.isNaN { latency.add(e.latency) }
    }

    private func countFingerprint(_ e: LineEvent) {
        // A line holding a secret is masked first: fingerprint and example are taken from the masked text.
        var maskedLine: String?
        // A message that is a piece of the line needs no check of its own when the line needs none (an
        // unescaped one, in the parser's arena, may hold bytes the line spelled as escapes).
        if masking.needsMasking(e.line) || (e.message.map { !Self.isPiece($0, of: e.line) && masking.needsMasking($0) } ?? false) {
            let line = masking.mask(e.line)
            var message = e.message.map(masking.mask) ?? line
            message.withUTF8 { fingerprinter.fingerprint(UnsafeRawBufferPointer($0)) }
            maskedLine = line
        } else {
            fingerprinter.fingerprint(e.message ?? e.line)
        }
        func example() -> String {
            maskedLine.map { LineMasking.head($0, Self.exampleLineBytes) }
                ?? String(decoding: UnsafeRawBufferPointer(rebasing: e.line.prefix(Self.exampleLineBytes)), as: UTF8.self)
        }
        let key = fingerprinter.hash
        let order = (currentFile << Self.fileShift) | e.offset
        let t = e.timeMs
        fingerprints.update(key, make: {
            FingerprintEntry(text: fingerprinter.string, count: 0, level: e.level, first: Int64.max, last: LineEvent.noTime,
                             example: example(),
                             exampleOrder: order)
        }) { entry in
            entry.count += 1
            if e.level > entry.level { entry.level = e.level }
            if t != LineEvent.noTime {
                if t < entry.first { entry.first = t }
                if t > entry.last { entry.last = t }
            }
            if order < entry.exampleOrder {
                entry.exampleOrder = order
                entry.example = example()
            }
        }
    }

    static func isPiece(_ part: UnsafeRawBufferPointer, of whole: UnsafeRawBufferPointer) -> Bool {
        guard let p = part.baseAddress, let w = whole.baseAddress else { return part.isEmpty }
        return p >= w && p + part.count <= w + whole.count
    }

    /// Group values are cut to their head so a pathological field cannot hold megabytes per entry.
    static let groupValueBytes = 256

    private func countGroup(_ whole: UnsafeRawBufferPointer, error: Bool, latency: Double, line: UnsafeRawBufferPointer) {
        countGroup(whole, count: 1, errors: error ? 1 : 0, latencySum: latency.isNaN ? 0 : latency,
                   latencyCount: latency.isNaN ? 0 : 1, lineNeedsMasking: masking.needsMasking(line))
    }

    /// Counts `count` lines holding the group value `whole`; `lineNeedsMasking` says whether the first
    /// of them holds a secret.
    func countGroup(_ whole: UnsafeRawBufferPointer, count: Int, errors: Int, latencySum: Double, latencyCount: Int,
                    lineNeedsMasking: @autoclosure () -> Bool) {
        let value = UnsafeRawBufferPointer(rebasing: whole.prefix(Self.groupValueBytes))
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in value { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        groups.update(h, make: {
            // Only a new group pays for the check; a value cut from a line holding a secret may be a piece of it.
            GroupEntry(value: lineNeedsMasking() ? masking.maskField(value) : String(decoding: value, as: UTF8.self),
                       count: 0, errors: 0, latencySum: 0, latencyCount: 0)
        }) { g in
            g.count += count
            g.errors += errors
            if latencyCount > 0 { g.latencySum += latencySum; g.latencyCount += latencyCount }
        }
    }

    func merge(_ o: ScanState) {
        lines += o.lines
        matched += o.matched
        filteredOut += o.filteredOut
        unparsed += o.unparsed
        for i in 0..<levelCounts.count { levelCounts[i] += o.levelCounts[i] }
        markers.ok += o.markers.ok
        markers.warn += o.markers.warn
        markers.fail += o.markers.fail
        minTime = min(minTime, o.minTime)
        maxTime = max(maxTime, o.maxTime)
        windows.merge(o.windows)
        fingerprints.merge(o.fingerprints)
        groups.merge(o.groups)
        latency.merge(o.latency)
        unparsedSamples = Array((unparsedSamples + o.unparsedSamples).sorted { $0.order < $1.order }.prefix(Self.unparsedExamples))
        lostBytesPerFile.merge(o.lostBytesPerFile, uniquingKeysWith: +)
        for (k, v) in o.perFile {
            let e = perFile[k, default: (0, 0)]
            perFile[k] = (e.lines + v.lines, e.unparsed + v.unparsed)
        }
    }
}
