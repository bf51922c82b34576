/// `-- opsctl:<word> [args]` comments that change how a migration runs or is linted.
public enum Directives {
    /// True when a line comment `-- opsctl:<name>` appears in `text`.
    static func has(_ name: String, in text: String) -> Bool {
        arguments(name, in: text) != nil
    }

    /// The words after `-- opsctl:<name>` (comma or space separated); nil when absent.
    static func arguments(_ name: String, in text: String) -> [String]? {
        let marker = "opsctl:" + name
        guard text.contains(marker) else { return nil }
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

    /// Rules ignored for one statement (`-- opsctl:ignore RULE` just above it).
    static func ignoredRules(_ leadingComments: String) -> Set<String> {
        Set(arguments("ignore", in: leadingComments) ?? [])
    }
}

import Foundation
