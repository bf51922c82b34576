/// One migration: a version, its up script and (ideally) its down script.
public struct Migration: Sendable, Identifiable {
    public enum Format: String, Sendable { case paired, single }

    /// The leading integer (or timestamp) of the file name.
    public var version: Int64
    /// The version as written (`007`), for messages and new file names.
    public var versionText: String
    public var name: String
    public var format: Format
    /// Path of the up script relative to the migration directory.
    public var upFile: String
    /// Path of the down script (the same file for the single-file format), nil when missing.
    public var downFile: String?
    /// Up SQL. For single files, other sections are blanked (newlines kept) so lines still match the file.
    public var up: String { didSet { checksumUp = Self.checksum(up) } }
    public var down: String? { didSet { checksumDown = down.map(Self.checksum) } }
    /// Where the runner looked for the down script (paired format).
    public var expectedDownFile: String?

    public var id: String { upFile }
    /// Computed once per file read (status compares every applied one, apply records each).
    public private(set) var checksumUp: String
    public private(set) var checksumDown: String?
    public var label: String { "\(versionText)_\(name)" }

    /// dbmate's `-- migrate:up transaction:false` (single-file format).
    public var upMarkerNoTransaction = false

    /// Directives in comments: `-- opsctl:no-transaction` (or dbmate's `transaction:false`).
    public var noTransactionDirective: Bool { upMarkerNoTransaction || Directives.has("no-transaction", in: up) }

    init(version: Int64, versionText: String, name: String, format: Format, upFile: String, downFile: String?,
         up: String, down: String?, expectedDownFile: String?, upMarkerNoTransaction: Bool = false) {
        self.version = version
        self.versionText = versionText
        self.name = name
        self.format = format
        self.upFile = upFile
        self.downFile = downFile
        self.up = up
        self.down = down
        self.expectedDownFile = expectedDownFile
        self.upMarkerNoTransaction = upMarkerNoTransaction
        checksumUp = Self.checksum(up)
        checksumDown = down.map(Self.checksum)
    }

    static func checksum(_ text: String) -> String { Checksum.hex(normalised(text)) }

    /// Whitespace at the ends does not change a checksum (editors add or strip final newlines).
    static func normalised(_ s: String) -> String {
        // Most files end in ASCII: trim ASCII whitespace by bytes, and leave anything else at the ends
        // (Unicode spaces, U+0085) to Foundation, whose definition the stored checksums were made with.
        let u = s.utf8
        var start = u.startIndex, end = u.endIndex
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }
        while start < end, isSpace(u[start]) { start = u.index(after: start) }
        while end > start, isSpace(u[u.index(before: end)]) { end = u.index(before: end) }
        guard start == end || (u[start] < 0x80 && u[u.index(before: end)] < 0x80) else {
            return s.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return String(decoding: u[start..<end], as: UTF8.self)
    }
}

import Foundation
