/// `-- opsctl:<word> [args]` comments that change how a migration runs or is linted.
public enum Directives {
    /// True when a line comment `-- opsctl:<name>` appears in `text`.
    static func has(_ name: String, in text: String) -> Bool {
        arguments(name, in: text) != nil
    }

    /// The words after `-- opsctl:<name>` (comma or space separated); nil when absent.
    static func arguments(_ name: String, in text: String) -> [String]? {
        let marker = "opsctl:" + name
        guard mentions(marker, in: text) else { return nil }
        var found: [String]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("--") else { continue }
            let comment = t.dropFirst(2).trimmingCharacters(in: .whitespaces)
            guard comment.hasPrefix(marker) else { continue }
            let rest = comment.dropFirst(marker.count)
            // `opsctl:ignore` must not match `opsctl:ignore-file`.
            if let first = rest.first, !first.isWhitespace && first != "," { continue }
            let words = rest.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
            found = (found ?? []) + words
        }
        return found
    }

    /// A byte search: asked of every migration and every statement's comments, Foundation's
    /// `String.contains` (a CFString search per call) was a tenth of a 1,000-file apply's CPU.
    static func mentions(_ needle: String, in text: String) -> Bool {
        var text = text, needle = needle
        return text.withUTF8 { t in
            needle.withUTF8 { n in
                guard let first = n.first else { return true }
                guard t.count >= n.count else { return false }
                var i = 0
                while i <= t.count - n.count {
                    if t[i] == first {
                        var k = 1
                        while k < n.count, t[i + k] == n[k] { k += 1 }
                        if k == n.count { return true }
                    }
                    i += 1
                }
                return false
            }
        }
    }

    /// Rules ignored for one statement (`-- opsctl:ignore RULE` just above it).
    static func ignoredRules(_ leadingComments: String) -> Set<String> {
        Set(arguments("ignore", in: leadingComments) ?? [])
    }
}

import Foundation
