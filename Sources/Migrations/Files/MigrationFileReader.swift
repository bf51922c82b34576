import Foundation

/// Reads a migration file as text, refusing what would otherwise be mangled silently: a file that cannot
/// be read, invalid UTF-8 (a Latin-1 `é`), a NUL byte (C strings end there, so libpq and the parser would
/// see only the part before it) or other binary bytes. Each is invalid input naming the file, line:col
/// and the byte offset, so nothing is applied from a directory holding such a file.
public enum MigrationFileReader {
    /// Throws `.invalidInput` unless `path` reads as UTF-8 SQL text (for files given on the command line).
    public static func validate(_ path: String) throws {
        _ = try read(path, display: path)
    }

    /// `display` is the name used in messages (relative to the migration directory).
    static func read(_ path: String, display: String) throws -> String {
        let bytes = try contents(path, display: display)
        if let problem = firstProblem(bytes) {
            let (line, column) = position(of: problem.offset, in: bytes)
            throw MigrationError(.invalidInput, "\(problem.what) at byte offset \(problem.offset)",
                                 location: SourceLocation(file: display, line: line, column: column),
                                 nextStep: problem.fix + "; nothing was run")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The file's bytes; the reason (errno) when it cannot be opened or read.
    static func contents(_ path: String, display: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw unreadable(display, errno) }
        defer { close(fd) }
        // Read straight into a buffer the file's size (plus one byte, to see the end in one read): a
        // 64 KiB scratch buffer zeroed per file cost more than reading a directory of small files.
        var info = stat()
        let size = fstat(fd, &info) == 0 && info.st_size > 0 ? Int(info.st_size) : 0
        var out = [UInt8](repeating: 0, count: size + 1)
        var filled = 0
        while true {
            if filled == out.count { out += repeatElement(0, count: max(4096, out.count)) }
            let n = out.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw unreadable(display, errno)
            }
            if n == 0 {
                out.removeSubrange(filled...)
                return out
            }
            filled += n
        }
    }

    private static func unreadable(_ display: String, _ code: Int32) -> MigrationError {
        MigrationError(.invalidInput, "cannot read the file: \(String(cString: strerror(code)))",
                       location: SourceLocation(file: display, line: 1, column: 1),
                       nextStep: "check its permissions (the runner must be able to read every migration); nothing was run")
    }

    /// The first byte that makes the file unusable as SQL text, with what is wrong and how to fix it.
    static func firstProblem(_ b: [UInt8]) -> (offset: Int, what: String, fix: String)? {
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 {
                if c == 0 {
                    return (i, "NUL byte (a binary file, or text saved as UTF-16?)", "save the file as UTF-8 text without NUL bytes")
                }
                // Tab, newline, vertical tab, form feed and carriage return are whitespace to Postgres.
                if c < 0x20 && !(0x09...0x0D).contains(c) || c == 0x7F {
                    return (i, String(format: "control byte 0x%02X (a binary file?)", c),
                            "migrations are SQL text; write control characters as escapes (E'\\\\x01')")
                }
                i += 1
                continue
            }
            // Multi-byte sequence: lead byte, its length and the allowed range of the second byte
            // (which excludes overlong forms, surrogates and code points above U+10FFFF).
            let length: Int, low: UInt8, high: UInt8
            switch c {
            case 0xC2...0xDF: (length, low, high) = (2, 0x80, 0xBF)
            case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (length, low, high) = (3, 0x80, 0xBF)
            case 0xED: (length, low, high) = (3, 0x80, 0x9F)
            case 0xF0: (length, low, high) = (4, 0x90, 0xBF)
            case 0xF1...0xF3: (length, low, high) = (4, 0x80, 0xBF)
            case 0xF4: (length, low, high) = (4, 0x80, 0x8F)
            default: return (i, String(format: "invalid UTF-8 (byte 0x%02X)", c), encodingFix)
            }
            var valid = i + length <= n && (low...high).contains(b[i + 1])
            if valid { for k in 2..<length where b[i + k] & 0xC0 != 0x80 { valid = false } }
            if !valid { return (i, String(format: "invalid UTF-8 (byte 0x%02X)", c), encodingFix) }
            i += length
        }
        return nil
    }

    private static let encodingFix = "save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8); Postgres and opsctl read migrations as UTF-8"

    /// 1-based line and column (characters; a stray byte counts as one) of a byte offset.
    static func position(of offset: Int, in b: [UInt8]) -> (Int, Int) {
        var line = 1, column = 1
        for byte in b[0..<min(offset, b.count)] {
            if byte == 10 {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }
}
