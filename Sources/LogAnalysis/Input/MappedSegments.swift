import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Segments of a plain regular file straight from the page cache: each is mapped (pages loaded by
/// the reading thread, MAP_POPULATE), scanned in place by a worker and unmapped, so no byte is
/// copied and resident memory stays at a few segments whatever the file size. The last stretch of
/// the file is left to the buffered reader: the scanner reads up to 64 bytes past a segment's end,
/// which past the file's last page would fault.
enum MappedSegments {
    /// Queues mapped segments of `input` from `offset`; returns where the buffered reader takes over
    /// (a line longer than a chunk stops the mapping there too).
    static func produce(input: InputReader, size: Int, from offset: Int, file: Int, format: inout LogFormat?,
                        queue: SegmentQueue, options: LogAnalysisOptions) throws -> Int {
        let page = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))
        let chunk = options.chunkBytes
        var offset = offset
        while size - offset > chunk + 2 * page {
            let mapStart = offset & ~(page - 1)
            let lead = offset - mapStart
            // A page past the chunk: the scanner's padding, inside the file.
            let mapLength = lead + chunk + page
            let base = try input.map(offset: mapStart, count: mapLength)
            guard let nl = LogAnalyzer.lastNewline(UnsafeMutableRawPointer(mutating: base + lead), chunk) else {
                munmap(UnsafeMutableRawPointer(mutating: base), mapLength)
                break
            }
            let length = base.distance(to: UnsafeRawPointer(nl)) + 1 - lead
            if format == nil {
                format = FormatDetector.detect(UnsafeRawBufferPointer(start: base + lead, count: min(length, 1 << 16)))
            }
            let slot = queue.takeFree()
            queue.put(Segment(buffer: UInt(bitPattern: slot), length: length, file: file, offset: offset, format: format!,
                              mapping: (UInt(bitPattern: base), mapLength, lead)))
            offset += length
        }
        return offset
    }
}
