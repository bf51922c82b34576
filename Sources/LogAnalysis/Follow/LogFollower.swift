import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `logs analyze --follow`: reads files as they grow (through renames and truncations, like
/// `tail -F`) and stdin as it arrives, counts every line once with the analyzer's own scanners, and
/// hands a report of the sliding window to `onReport` every `every` seconds. It sleeps in poll(2) on
/// inotify, stdin and a stop pipe: no busy loop (without inotify, files are looked at every 250 ms).
public final class LogFollower: @unchecked Sendable {
    /// One followed path: the file open now, and files rotated away that a writer may still append to.
    final class Input {
        let path: String
        let index: Int
        var tail: FollowTail?
        var retired: [(tail: FollowTail, until: Date)] = []
        var format: LogFormat?
        /// Bytes scanned so far: orders examples across rotations.
        var consumed = 0
        var ended = false

        init(path: String, index: Int) {
            self.path = path
            self.index = index
        }
    }

    public let options: LogAnalysisOptions
    public let follow: LogFollowOptions
    let inputs: [Input]
    let window: SlidingWindow
    private var json: JSONLines?
    private var rotations = 0
    private var truncations = 0
    private let stopPipe: [Int32]
    private let lock = NSLock()
    private var stopReason: String?
    private var inotifyFD: Int32 = -1
    /// How long a renamed file is still read after its successor appeared (a writer reopens on its own schedule).
    static let retiredGrace: Double = 5
    static let checkEvery: Double = 0.2

    public init(paths: [String], options: LogAnalysisOptions, follow: LogFollowOptions) throws {
        var options = options
        // Per slice: smaller tables than a one-off analysis, as ten slices live at once.
        options.tableCap = min(options.tableCap, 1_000)
        options.exactLatencyLimit = min(options.exactLatencyLimit, 20_000)
        self.options = options
        self.follow = follow
        let list = paths.isEmpty ? ["-"] : paths
        guard list.filter({ $0 == "-" }).count <= 1 else { throw LogAnalysisError("stdin ('-') can be followed once") }
        for path in list where path.hasSuffix(".gz") {
            throw LogAnalysisError("\(path): a compressed file does not grow; analyse it without --follow")
        }
        inputs = list.enumerated().map { Input(path: $1, index: $0) }
        window = SlidingWindow(window: follow.window, options: options)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw LogAnalysisError("pipe: \(String(cString: strerror(errno)))") }
        stopPipe = fds
        _ = try ScanState(options: options)   // a bad --grep fails now, not at the first line
    }

    deinit {
        close(stopPipe[0])
        close(stopPipe[1])
        if inotifyFD >= 0 { close(inotifyFD) }
    }

    /// Ends the follow from any thread (a signal handler's queue): the final report follows.
    public func stop(_ reason: String) {
        lock.withLock { if stopReason == nil { stopReason = reason } }
        var byte: UInt8 = 1
        _ = write(stopPipe[1], &byte, 1)
    }

    /// Runs until the duration passes, stdin ends (and no file is followed), `stop` is called, a fail
    /// threshold is crossed with `exitOnFail`, or `onReport` (called every `every`) returns false.
    /// Returns the final snapshot, `ended` saying why.
    public func run(_ onReport: (LogFollowSnapshot) throws -> Bool) throws -> LogFollowSnapshot {
        let started = Date()
        let end = follow.duration.map { started.addingTimeInterval($0) }
        setUpInotify()
        for input in inputs where input.path != "-" {
            input.tail = try FollowTail.open(input.path, atEnd: !follow.fromStart, maxLine: options.maxLineBytes)
        }
        if let stdin = inputs.first(where: { $0.path == "-" }) {
            stdin.tail = FollowTail(fd: 0, ownsFD: false, maxLine: options.maxLineBytes)
        }
        try checkFiles()
        var nextReport = started.addingTimeInterval(follow.every)
        var lastCheck = Date.distantPast
        var unchecked = false   // lines arrived that --exit-on-fail has not looked at yet
        var ended: String?
        while ended == nil {
            let now = Date()
            let deadline = min(nextReport, end ?? .distantFuture)
            var timeout = max(0, deadline.timeIntervalSince(now))
            if inotifyFD < 0 && inputs.contains(where: { $0.path != "-" }) { timeout = min(timeout, 0.25) }
            if unchecked { timeout = min(timeout, max(0, lastCheck.addingTimeInterval(Self.checkEvery).timeIntervalSince(now))) }
            var fds = [pollfd(fd: stopPipe[0], events: Int16(POLLIN), revents: 0)]
            if inotifyFD >= 0 { fds.append(pollfd(fd: inotifyFD, events: Int16(POLLIN), revents: 0)) }
            let stdin = inputs.first { $0.path == "-" && !$0.ended }
            if stdin != nil { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(timeout * 1000, 3_600_000).rounded(.up)))
            if ready < 0 && errno != EINTR { throw LogAnalysisError("poll: \(String(cString: strerror(errno)))") }
            if let reason = lock.withLock({ stopReason }) { ended = reason; break }
            var changed = false
            for fd in fds where fd.revents != 0 && fd.fd == inotifyFD {
                drainInotify()
                try checkFiles()
                changed = true
            }
            if inotifyFD < 0 { try checkFiles(); changed = true }
            if let stdin, let tail = stdin.tail, fds.contains(where: { $0.fd == 0 && $0.revents != 0 }) {
                if read(tail, of: stdin) == 0 {
                    stdin.ended = true
                    tail.flushPartial { scan($0, of: stdin) }
                    if inputs.count == 1 { ended = "end of input" }
                }
                changed = true
            }
            let at = Date()
            if follow.exitOnFail && changed { unchecked = true }
            // Checked as lines arrive (at most every 200 ms: a merge of the window), not only at the report.
            if unchecked && at.timeIntervalSince(lastCheck) >= Self.checkEvery {
                lastCheck = at
                unchecked = false
                let snap = try snapshot(at: at)
                if snap.report.status == .fail { return Self.failed(snap) }
            }
            if let end, at >= end { ended = "ran for \(Self.seconds(follow.duration ?? 0))"; break }
            if at >= nextReport {
                try checkFiles()   // also catches what inotify cannot see (a file moved to another directory)
                let snap = try snapshot(at: at)
                if follow.exitOnFail && snap.report.status == .fail { return Self.failed(snap) }
                guard try onReport(snap) else { ended = "stopped"; break }
                while nextReport <= at { nextReport.addTimeInterval(follow.every) }
            }
        }
        try checkFiles()
        var final = try snapshot(at: Date())
        final.ended = ended
        return final
    }

    static func failed(_ snapshot: LogFollowSnapshot) -> LogFollowSnapshot {
        var final = snapshot
        let crossed = snapshot.report.thresholds.filter { $0.status == .fail }.map(\.threshold)
        final.ended = "fail threshold crossed: \(crossed.joined(separator: ", "))"
        return final
    }

    static func seconds(_ s: Double) -> String {
        s.rounded() == s ? "\(Int(s)) s" : String(format: "%.1f s", s)
    }

    // MARK: - files

    func setUpInotify() {
        let files = inputs.filter { $0.path != "-" }
        guard !files.isEmpty else { return }
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { return }
        let mask = UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB)
        var watched = Set<String>()
        for input in files {
            // The directory, not the file: a rotation replaces the file, and the new one must be seen.
            let dir = (input.path as NSString).deletingLastPathComponent
            let path = dir.isEmpty ? "." : dir
            guard watched.insert(path).inserted else { continue }
            if inotify_add_watch(fd, path, mask) < 0 {
                close(fd)
                return
            }
        }
        inotifyFD = fd
    }

    func drainInotify() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while buffer.withUnsafeMutableBytes({ Glibc.read(inotifyFD, $0.baseAddress, $0.count) }) > 0 {}
    }

    /// Reads every file to its current end, noticing truncation and rotation.
    func checkFiles() throws {
        for input in inputs where input.path != "-" {
            // Files rotated away: a writer that has not reopened yet still appends there.
            input.retired.removeAll { retired in
                read(retired.tail, of: input)
                if Date() >= retired.until {
                    retired.tail.flushPartial { scan($0, of: input) }
                    return true
                }
                return false
            }
            guard let tail = input.tail else {
                // Waiting for the file to appear: then it is new, read from its start.
                input.tail = try FollowTail.open(input.path, atEnd: false, maxLine: options.maxLineBytes)
                if let tail = input.tail { read(tail, of: input) }
                continue
            }
            if tail.truncated() {
                truncations += 1
                tail.rewind()
            }
            read(tail, of: input)
            var st = stat()
            guard stat(input.path, &st) == 0 else { continue }   // renamed, the new file not there yet
            if UInt64(st.st_dev) != tail.device || UInt64(st.st_ino) != tail.inode,
               let next = try FollowTail.open(input.path, atEnd: false, maxLine: options.maxLineBytes) {
                rotations += 1
                input.retired.append((tail, Date().addingTimeInterval(Self.retiredGrace)))
                input.tail = next
                read(next, of: input)
            }
        }
    }

    // MARK: - scanning

    @discardableResult
    func read(_ tail: FollowTail, of input: Input) -> Int {
        tail.read(lines: { scan($0, of: input) }, tooLong: { line in
            guard let state = try? window.current(nowMs: Self.nowMs()) else { return }
            state.begin(file: input.index)
            state.recordUnparsed(line, offset: input.consumed, reason: .tooLong)
            input.consumed += line.count
        })
    }

    /// Whole lines (each ending in a newline), with the analyzer's scanners, into the current slice.
    func scan(_ bytes: UnsafeRawBufferPointer, of input: Input) {
        guard let state = try? window.current(nowMs: Self.nowMs()) else { return }
        if input.format == nil {
            input.format = options.format ?? FormatDetector.detect(UnsafeRawBufferPointer(rebasing: bytes.prefix(1 << 16)))
        }
        state.begin(file: input.index)
        let offset = input.consumed
        input.consumed += bytes.count
        switch input.format! {
        case .json:
            if json == nil { json = JSONLines(groupBy: options.groupBy, latencyField: options.latencyField) }
            json!.scan(bytes, startOffset: offset, maxLine: options.maxLineBytes,
                       parsed: { state.consume(&$0) },
                       unparsed: { state.recordUnparsed($0, offset: $1, reason: $2) })
        case .plain, .logfmt:
            let logfmt = input.format == .logfmt
            let groupKey = options.groupBy.map { Array($0.utf8) }
            let latencyKey = options.latencyField.map { Array($0.utf8) }
            TextLines.scan(bytes, startOffset: offset, maxLine: options.maxLineBytes, state: state) { event in
                if logfmt {
                    LogfmtLine.parse(&event, groupKey: groupKey, latencyKey: latencyKey)
                } else {
                    PlainTextLine.parse(&event)
                }
            }
        }
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: - reports

    func snapshot(at date: Date) throws -> LogFollowSnapshot {
        let nowMs = Int64(date.timeIntervalSince1970 * 1000)
        let merged = try window.merged(nowMs: nowMs)
        let files = inputs.map { input in
            LogReport.FileSummary(path: input.path, format: input.format ?? .plain, compressed: false, bytes: input.consumed,
                                  lines: merged.perFile[input.index]?.lines ?? 0, unparsed: merged.perFile[input.index]?.unparsed ?? 0,
                                  skippedBytes: 0, probedBytes: 0)
        }
        let report = ReportBuilder.build(merged, files: files, inputs: inputs.map(\.path), options: options)
        return LogFollowSnapshot(at: date, report: report, windowSeconds: follow.window, linesTotal: window.linesTotal,
                                 rotations: rotations, truncations: truncations,
                                 waiting: inputs.filter { $0.path != "-" && $0.tail == nil }.map(\.path),
                                 retainedEntries: window.retainedEntries, peakRSSBytes: Self.peakRSS(), ended: nil,
                                 inotify: inotifyFD >= 0 || !inputs.contains { $0.path != "-" })
    }

    /// VmHWM from /proc/self/status, in bytes.
    static func peakRSS() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
        let kb = line.split(separator: " ").compactMap { Int($0) }.first
        return kb.map { $0 * 1024 }
    }
}
