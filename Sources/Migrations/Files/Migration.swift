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
    public var up: String
    public var down: String?
    /// Where the runner looked for the down script (paired format).
    public var expectedDownFile: String?

    public var id: String { upFile }
    public var checksumUp: String { Checksum.hex(Self.normalised(up)) }
    public var checksumDown: String? { down.map { Checksum.hex(Self.normalised($0)) } }
    public var label: String { "\(versionText)_\(name)" }

    /// dbmate's `-- migrate:up transaction:false` (single-file format).
    public var upMarkerNoTransaction = false

    /// Directives in comments: `-- opsctl:no-transaction` (or dbmate's `transaction:false`).
    public var noTransactionDirective: Bool { upMarkerNoTransaction || Directives.has("no-transaction", in: up) }

    /// Whitespace at the ends does not change a checksum (editors add or strip final newlines).
    static func normalised(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines) }
}

import Foundation
