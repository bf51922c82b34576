import CSimdJSON
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain file read straight from the page cache: mapped whole (address space only), scanned in
/// place segment by segment by the workers, each segment's pages dropped once scanned so resident
/// memory stays at a few segments whatever the file size. No byte is copied, and no thread reads
/// for the others.
///
/// A file truncated while it is mapped (copytruncate) faults on every page past its new end; the
/// scanner catches that SIGBUS (`cs_tally_mapped`) and the worker reads what is left with pread,
/// exactly as the buffered reader would have seen it. The last stretch of the file is always left
/// to the buffered reader: the scanner reads up to CS_PADDING bytes past a segment's end, which past
/// the file's last page would fault.
final class MappedFile: @unchecked Sendable {
    let base: UnsafeRawPointer
    let length: Int
    private let fd: Int32
    static let page = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))
    /// Bytes at the end left to the buffered reader.
    static let tail = 1 << 16

    /// Maps a seekable file of `size` bytes; nil when it cannot be mapped (the buffered reader goes on).
    init?(path: String, size: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        guard size > 0, let p = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            close(fd)
            return nil
        }
        madvise(p, size, MADV_SEQUENTIAL)
        self.fd = fd
        base = UnsafeRawPointer(p)
        length = size
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), length)
        close(fd)
    }

    /// Where the mapped part of the file ends: just after the first newline of its last `tail` bytes
    /// (whole lines on both sides); nil when there is none or the file shrank under us.
    func mappedEnd(from offset: Int) -> Int? {
        let from = length - Self.tail
        guard from > offset else { return nil }
        var found = 0
        guard cs_mapped_find_newline(base.assumingMemoryBound(to: CChar.self), from, length, &found) == 1 else { return nil }
        return found + 1
    }

    /// The end of the segment that starts at `start` and runs about `chunk` bytes: just after the first
    /// newline at or past `start + chunk`, or `end`; nil when the file shrank under us.
    func segmentEnd(start: Int, chunk: Int, end: Int) -> Int? {
        let nominal = start + chunk
        if nominal >= end { return end }
        var found = 0
        switch cs_mapped_find_newline(base.assumingMemoryBound(to: CChar.self), nominal, end, &found) {
        case 1: return found + 1
        case 0: return end
        default: return nil
        }
    }

    /// Loads the pages of [offset, offset + count) in one call instead of a fault per few pages.
    func populate(offset: Int, count: Int) {
        let start = offset & ~(Self.page - 1)
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), offset + count - start, 22 /* MADV_POPULATE_READ */)
    }

    /// Drops the scanned pages of [offset, offset + count) from this process (the page cache keeps them).
    func release(offset: Int, count: Int) {
        let start = (offset + Self.page - 1) & ~(Self.page - 1)
        let end = (offset + count) & ~(Self.page - 1)
        if end > start { _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED) }
    }

    /// pread of what the file still holds at `offset` (after a truncation: usually nothing).
    func read(at offset: Int, into p: UnsafeMutableRawPointer, count: Int) -> Int {
        var done = 0
        while done < count {
            let n = pread(fd, p + done, count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            done += n
        }
        return done
    }
}
