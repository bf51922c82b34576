import Foundation

/// A run of whole lines of one input, in a pooled buffer with padding after it.
struct Segment: Sendable {
    /// `UnsafeMutableRawPointer` as a bit pattern, to cross threads.
    var buffer: UInt
    var length: Int
    var file: Int
    /// Offset of the segment's first byte in its (decompressed) input.
    var offset: Int
    var format: LogFormat
    /// A segment of a mapped file: its bytes are at `offset` in the mapping, and `buffer` is the pool
    /// slot that bounds how many are in flight (and holds what is read back after a truncation).
    var mapped: MappedFile? = nil

    var bytes: UnsafeRawBufferPointer {
        if let m = mapped { return UnsafeRawBufferPointer(start: m.base + offset, count: length) }
        return UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: buffer), count: length)
    }
}

/// Hands segments from the reading thread to the workers through a fixed pool of buffers,
/// which bounds memory to `pool × capacity` whatever the input size.
final class SegmentQueue: @unchecked Sendable {
    let capacity: Int
    private let condition = NSCondition()
    private var free: [UInt] = []
    private var all: [UInt] = []
    private var ready: [Segment] = []
    private var closed = false

    init(buffers: Int, capacity: Int) {
        self.capacity = capacity
        for _ in 0..<buffers {
            let p = UnsafeMutableRawPointer.allocate(byteCount: capacity + 64, alignment: 64)
            all.append(UInt(bitPattern: p))
        }
        free = all
    }

    deinit {
        for b in all { UnsafeMutableRawPointer(bitPattern: b)?.deallocate() }
    }

    func takeFree() -> UnsafeMutableRawPointer {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty { condition.wait() }
        return UnsafeMutableRawPointer(bitPattern: free.removeLast())!
    }

    func giveBack(_ buffer: UInt) {
        condition.lock()
        free.append(buffer)
        condition.broadcast()
        condition.unlock()
    }

    func put(_ s: Segment) {
        condition.lock()
        ready.append(s)
        condition.broadcast()
        condition.unlock()
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next segment; nil once closed and drained.
    func next() -> Segment? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !closed { condition.wait() }
        return ready.isEmpty ? nil : ready.removeFirst()
    }
}
