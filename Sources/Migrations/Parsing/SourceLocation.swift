/// A position in a file, 1-based, for `file:line:col` messages.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// Maps byte offsets of a source text to line and column (columns count characters, not bytes).
struct LineMap: Sendable {
    let bytes: [UInt8]
    /// Byte offset at which each line starts.
    let lineStarts: [Int]

    init(_ text: String) {
        bytes = Array(text.utf8)
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == 10 { starts.append(i + 1) }
        lineStarts = starts
    }

    func location(ofByte offset: Int, file: String) -> SourceLocation {
        let o = max(0, min(offset, bytes.count))
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= o { lo = mid } else { hi = mid - 1 }
        }
        let start = lineStarts[lo]
        // Count characters (UTF-8 lead bytes) between line start and offset.
        var column = 1
        for b in bytes[start..<o] where b & 0xC0 != 0x80 { column += 1 }
        return SourceLocation(file: file, line: lo + 1, column: column)
    }

    /// Byte offset of the `chars`-th character (0-based) after `start`: server positions count characters.
    func byteOffset(from start: Int, characters chars: Int) -> Int {
        var i = start, seen = 0
        while i < bytes.count {
            if bytes[i] & 0xC0 != 0x80 {
                if seen == chars { return i }
                seen += 1
            }
            i += 1
        }
        return i
    }
}
