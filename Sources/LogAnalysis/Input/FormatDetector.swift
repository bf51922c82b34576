/// Tells the format of a file from its first lines: JSON objects, logfmt pairs or plain text.
enum FormatDetector {
    static func detect(_ head: UnsafeRawBufferPointer) -> LogFormat {
        var json = 0, logfmt = 0, total = 0
        var start = 0
        let n = head.count
        while start < n && total < 50 {
            var end = start
            while end < n && head[end] != 0x0A { end += 1 }
            if end == n && start > 0 { break } // a cut last line says nothing
            let line = UnsafeRawBufferPointer(rebasing: head[start..<end])
            start = end + 1
            var i = 0
            while i < line.count && (line[i] == 0x20 || line[i] == 0x09 || line[i] == 0x0D) { i += 1 }
            if i == line.count { continue }
            total += 1
            if line[i] == 0x7B { json += 1 } else if pairs(line) >= 2 { logfmt += 1 }
        }
        if total == 0 { return .plain }
        if json * 2 >= total { return .json }
        if logfmt * 2 >= total { return .logfmt }
        return .plain
    }

    /// `key=value` tokens at word starts.
    static func pairs(_ line: UnsafeRawBufferPointer) -> Int {
        var count = 0, i = 0
        let n = line.count
        while i < n {
            while i < n && line[i] == 0x20 { i += 1 }
            let start = i
            while i < n && line[i] != 0x20 && line[i] != 0x3D && line[i] != 0x22 { i += 1 }
            if i < n && line[i] == 0x3D && i > start {
                count += 1
                i += 1
                if i < n && line[i] == 0x22 {
                    i += 1
                    while i < n && line[i] != 0x22 { if line[i] == 0x5C { i += 1 }; i += 1 }
                    i += 1
                }
            }
            while i < n && line[i] != 0x20 { i += 1 }
        }
        return count
    }
}
