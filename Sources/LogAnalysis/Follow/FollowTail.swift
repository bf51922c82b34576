import CSimdJSON
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One open file (or stdin) being read as it grows: whole lines go to the scanner, a partial last
/// line waits for its newline, an over-long line is counted and skipped without being held.
final class FollowTail {
    let fd: Int32
    let ownsFD: Bool
    private(set) var device: UInt64 = 0
    private(set) var inode: UInt64 = 0
    /// Read position in the file.
    private(set) var position = 0
    /// The file's first bytes as last seen: copytruncate shows as a change here even when the file has
    /// regrown past `position` before we look.
    private var head: [UInt8] = []
    static let headBytes = 64
    private let buffer: UnsafeMutableRawPointer
    private let capacity: Int
    private var fill = 0
    private var skipping = false
    private let maxLine: Int

    init(fd: Int32, ownsFD: Bool, maxLine: Int) {
        self.fd = fd
        self.ownsFD = ownsFD
        self.maxLine = maxLine
        capacity = maxLine + (1 << 20)
        buffer = .allocate(byteCount: capacity + Int(CS_PADDING), alignment: 64)
        var st = stat()
        if fstat(fd, &st) == 0 {
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
        }
    }

    /// Opens `path` at its start or its end; nil when it does not exist (yet).
    static func open(_ path: String, atEnd: Bool, maxLine: Int) throws -> FollowTail? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw LogAnalysisError("\(path): \(String(cString: strerror(errno)))")
        }
        let tail = FollowTail(fd: fd, ownsFD: true, maxLine: maxLine)
        tail.refreshHead()
        if atEnd {
            tail.position = Int(lseek(fd, 0, SEEK_END))
        }
        return tail
    }

    deinit {
        if ownsFD { close(fd) }
        buffer.deallocate()
    }

    var size: Int? {
        var st = stat()
        return fstat(fd, &st) == 0 ? Int(st.st_size) : nil
    }

    /// True when the file was truncated under us: shorter than what we read, or its first bytes changed.
    func truncated() -> Bool {
        guard let size else { return false }
        if size < position { return true }
        guard !head.isEmpty else { return false }
        var now = [UInt8](repeating: 0, count: head.count)
        let n = now.withUnsafeMutableBytes { pread(fd, $0.baseAddress, head.count, 0) }
        return n < head.count || now != head
    }

    /// Keeps the head current while the file is young (shorter than `headBytes` when opened).
    func refreshHead() {
        guard head.count < Self.headBytes else { return }
        var now = [UInt8](repeating: 0, count: Self.headBytes)
        let n = now.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Self.headBytes, 0) }
        if n > head.count { head = Array(now.prefix(n)) }
    }

    /// Back to the start after a truncation; what was waiting for its newline is dropped (it was
    /// the old content's).
    func rewind() {
        lseek(fd, 0, SEEK_SET)
        position = 0
        fill = 0
        skipping = false
        head = []
        refreshHead()
    }

    /// Reads what is there now (at most `limit` bytes) and hands each run of whole lines to `lines`.
    /// Returns the bytes read; 0 at the end of what the file holds (or of stdin).
    @discardableResult
    func read(limit: Int = .max, lines: (UnsafeRawBufferPointer) -> Void, tooLong: (UnsafeRawBufferPointer) -> Void) -> Int {
        var total = 0
        while total < limit {
            let n = Glibc.read(fd, buffer + fill, capacity - fill)
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                break
            }
            total += n
            position += n
            var start = fill
            fill += n
            if skipping {
                guard let nl = memchr(buffer + start, 0x0A, fill - start) else { fill = 0; continue }
                let cut = buffer.distance(to: nl) + 1
                memmove(buffer, buffer + cut, fill - cut)
                fill -= cut
                start = 0
                skipping = false
            }
            if let last = Self.lastNewline(buffer, from: start, to: fill) {
                let length = last + 1
                lines(UnsafeRawBufferPointer(start: buffer, count: length))
                memmove(buffer, buffer + length, fill - length)
                fill -= length
            } else if fill > maxLine {
                tooLong(UnsafeRawBufferPointer(start: buffer, count: min(fill, 256)))
                fill = 0
                skipping = true
            }
            if fd == 0 { break }   // stdin: one read per wake-up, so a quiet pipe never blocks the loop
        }
        if head.count < Self.headBytes && ownsFD { refreshHead() }
        return total
    }

    /// The line without a newline at the end of a file that was rotated away: it is complete now.
    func flushPartial(lines: (UnsafeRawBufferPointer) -> Void) {
        guard fill > 0, !skipping else { fill = 0; return }
        buffer.storeBytes(of: 0x0A, toByteOffset: fill, as: UInt8.self)
        lines(UnsafeRawBufferPointer(start: buffer, count: fill + 1))
        fill = 0
    }

    static func lastNewline(_ p: UnsafeMutableRawPointer, from: Int, to: Int) -> Int? {
        let bytes = p.assumingMemoryBound(to: UInt8.self)
        var i = to - 1
        while i >= from {
            if bytes[i] == 0x0A { return i }
            i -= 1
        }
        return nil
    }
}
