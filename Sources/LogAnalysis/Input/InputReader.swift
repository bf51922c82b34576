import CSimdJSON
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file or stdin as a byte stream, inflating gzip transparently (detected by its magic
/// bytes, so `.gz` files and compressed pipes both work).
final class InputReader {
    let path: String
    private let fd: Int32
    private let ownsFD: Bool
    private var inflater: OpaquePointer?
    private var staging: UnsafeMutableRawPointer
    private let stagingCapacity = 1 << 20
    private var stagingStart = 0
    private var stagingEnd = 0
    private var sourceEOF = false
    private(set) var compressed = false
    private(set) var compressedBytes = 0
    private var lastInflateResult: Int32 = 1
    /// Size of a regular file (nil for pipes, stdin and other streams).
    private(set) var regularFileSize: Int?

    /// Opens `path` (`-` is stdin).
    init(path: String) throws {
        self.path = path
        if path == "-" {
            fd = 0
            ownsFD = false
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw LogAnalysisError("cannot open \(path): \(String(cString: strerror(errno)))") }
            var st = stat()
            if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                close(fd)
                throw LogAnalysisError("\(path) is a directory")
            }
            if (st.st_mode & S_IFMT) == S_IFREG { regularFileSize = Int(st.st_size) }
            ownsFD = true
        }
        staging = .allocate(byteCount: stagingCapacity, alignment: 64)
        // The sniff reads what format detection looks at (64 KB), not a whole staging buffer: a mapped
        // file is scanned in place and a plain stream reads into the segments, so a 1 MB first read
        // was a copy (and 256 page faults) on the serial path before the first segment.
        try fillStaging(max: Self.sniffBytes)
        if stagingEnd - stagingStart >= 2 {
            let p = staging.assumingMemoryBound(to: UInt8.self)
            if p[0] == 0x1F && p[1] == 0x8B {
                compressed = true
                inflater = cs_inflater_new()
            }
        }
    }

    deinit {
        if ownsFD { close(fd) }
        if let inflater { cs_inflater_free(inflater) }
        staging.deallocate()
    }

    /// A plain regular file: its bytes can be read at any offset (the time seek needs that).
    var isSeekable: Bool { !compressed && regularFileSize != nil }

    /// The first bytes of the input, as sniffed when it was opened (format detection).
    var head: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: staging, count: stagingEnd) }

    /// Reads up to `count` bytes at `offset` without moving the stream (seekable inputs only).
    func read(at offset: Int, into p: UnsafeMutableRawPointer, count: Int) throws -> Int {
        var done = 0
        while done < count {
            let n = pread(fd, p + done, count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw LogAnalysisError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            done += n
        }
        probedBytes += done
        return done
    }

    /// Bytes read by `read(at:)` (the time seek's probes).
    private(set) var probedBytes = 0

    /// Continues the stream at `offset` of a seekable input, dropping what was sniffed.
    func seek(to offset: Int) throws {
        guard isSeekable, lseek(fd, off_t(offset), SEEK_SET) >= 0 else {
            throw LogAnalysisError("cannot seek in \(path): \(String(cString: strerror(errno)))")
        }
        stagingStart = 0
        stagingEnd = 0
        sourceEOF = false
    }

    /// Bytes read when the input is opened: enough to tell gzip and the line format apart.
    static let sniffBytes = 1 << 16

    private func fillStaging(max: Int? = nil) throws {
        stagingStart = 0
        stagingEnd = 0
        let limit = Swift.min(max ?? stagingCapacity, stagingCapacity)
        while stagingEnd < limit && !sourceEOF {
            let n = Glibc.read(fd, staging + stagingEnd, limit - stagingEnd)
            if n < 0 {
                if errno == EINTR { continue }
                throw LogAnalysisError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { sourceEOF = true }
            stagingEnd += n
            compressedBytes += n
            if n > 0 { break }
        }
    }

    /// Reads up to `max` bytes; 0 at the end of the input.
    func read(into p: UnsafeMutableRawPointer, max: Int) throws -> Int {
        guard max > 0 else { return 0 }
        while true {
            if stagingStart == stagingEnd {
                if sourceEOF {
                    if compressed && lastInflateResult != 1 {
                        throw LogAnalysisError("\(path): truncated gzip data")
                    }
                    return 0
                }
                if !compressed {
                    // Past the sniffed head, plain input goes straight into the caller's buffer.
                    while true {
                        let n = Glibc.read(fd, p, max)
                        if n < 0 && errno == EINTR { continue }
                        if n < 0 { throw LogAnalysisError("cannot read \(path): \(String(cString: strerror(errno)))") }
                        if n == 0 { sourceEOF = true }
                        compressedBytes += n
                        return n
                    }
                }
                try fillStaging()
                continue
            }
            if !compressed {
                let n = min(max, stagingEnd - stagingStart)
                p.copyMemory(from: staging + stagingStart, byteCount: n)
                stagingStart += n
                return n
            }
            var consumed = 0, produced = 0
            let rc = cs_inflate(inflater, (staging + stagingStart).assumingMemoryBound(to: UInt8.self), stagingEnd - stagingStart,
                                &consumed, p.assumingMemoryBound(to: UInt8.self), max, &produced)
            if rc < 0 { throw LogAnalysisError("\(path): corrupt gzip data near byte \(compressedBytes - (stagingEnd - stagingStart - consumed))") }
            if consumed > 0 || rc == 1 { lastInflateResult = rc }
            stagingStart += consumed
            if produced > 0 { return produced }
        }
    }
}
