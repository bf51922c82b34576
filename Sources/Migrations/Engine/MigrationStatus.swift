import Foundation

/// Where one version stands, comparing files and history.
public struct VersionStatus: Sendable {
    public enum State: String, Sendable {
        case applied, pending, failed, partial, modified, missing
        /// A non-transactional migration another session is applying right now (it holds the
        /// migration lock): its progress row is not a crash's leftover.
        case applying
        case outOfOrder = "out-of-order"
        case duplicate
    }

    public var version: Int64
    public var name: String
    public var state: State
    /// The up file, when there is one.
    public var file: String?
    public var hasDown: Bool
    public var message: String
    /// True when this version stops `apply` until someone acts.
    public var blocksApply: Bool
    public var entry: HistoryEntry?
}

/// Files vs history: what is applied, what is pending, and what is wrong.
public struct MigrationStatus: Sendable {
    public var versions: [VersionStatus]
    public var problems: [FileProblem]
    /// Whether the history table exists yet.
    public var historyExists: Bool

    public var pending: [VersionStatus] { versions.filter { $0.state == .pending } }
    public var applied: [VersionStatus] { versions.filter { $0.state == .applied || $0.state == .modified } }
    public var blocking: [VersionStatus] { versions.filter(\.blocksApply) }
    public var blocksApply: Bool { !blocking.isEmpty }
    /// Highest applied version (0 when none).
    public var current: Int64 { applied.map(\.version).max() ?? 0 }
    public var missingDown: [VersionStatus] { versions.filter { !$0.hasDown && $0.file != nil } }

    /// Compares the files of `set` with the `history` rows. `applyingElsewhere`: the pid of another session
    /// holding the migration lock, so a `partial` row is a migration in progress, not one that stopped.
    public static func compute(_ set: MigrationSet, history: [HistoryEntry], historyExists: Bool = true,
                               allowOutOfOrder: Bool = false, applyingElsewhere: Int? = nil) -> MigrationStatus {
        let byVersion = Dictionary(history.map { ($0.version, $0) }, uniquingKeysWith: { a, _ in a })
        let duplicates = set.duplicateVersions
        let newestApplied = history.filter { $0.state == .applied }.map(\.version).max() ?? 0
        var out: [VersionStatus] = []
        for m in set.migrations {
            let hasDown = m.down != nil
            var s = VersionStatus(version: m.version, name: m.name, state: .pending, file: m.upFile, hasDown: hasDown,
                                  message: "", blocksApply: false, entry: byVersion[m.version])
            if duplicates.contains(m.version) {
                let others = set.migrations.filter { $0.version == m.version && $0.upFile != m.upFile }.map(\.upFile)
                s.state = .duplicate
                s.message = "version \(m.version) is also used by \(others.joined(separator: ", ")): renumber one of them"
                s.blocksApply = true
            } else if let e = byVersion[m.version] {
                switch e.state {
                case .applied where e.checksumUp != m.checksumUp:
                    s.state = .modified
                    s.message = "\(m.upFile) changed after it was applied (checksum \(e.checksumUp.prefix(12)) -> \(m.checksumUp.prefix(12))): restore the file or add a new migration"
                    s.blocksApply = true
                case .applied:
                    s.state = .applied
                    s.message = "applied\(e.appliedAt.map { " at " + MigrationStatus.iso($0) } ?? "") by \(e.appliedBy)"
                case .failed:
                    s.state = .failed
                    s.message = "failed\(e.errorStatement.map { " at statement \($0 + 1)" } ?? ""): \(e.error ?? "unknown error"); fix the file and apply again, or `migrate repair`"
                    s.blocksApply = e.statementsDone > 0
                case .partial where applyingElsewhere != nil:
                    s.state = .applying
                    s.message = "being applied now by session pid \(applyingElsewhere ?? 0) (\(e.statementsDone) of \(e.statementsTotal.map(String.init) ?? "?") statements so far); apply waits for its lock"
                case .partial:
                    s.state = .partial
                    s.message = "partially applied: \(e.statementsDone) of \(e.statementsTotal.map(String.init) ?? "?") statements ran outside a transaction before it stopped; see `migrate repair \(m.version)`"
                    s.blocksApply = true
                }
            } else if m.version < newestApplied {
                s.state = .outOfOrder
                s.message = "pending, but older than the newest applied version \(newestApplied)"
                s.blocksApply = !allowOutOfOrder
            } else {
                s.message = "pending"
            }
            out.append(s)
        }
        let files = Set(set.migrations.map(\.version))
        for e in history where !files.contains(e.version) {
            out.append(VersionStatus(version: e.version, name: e.name, state: .missing, file: nil, hasDown: false,
                                     message: "recorded as \(e.state.rawValue) but its file is gone",
                                     blocksApply: e.state != .applied, entry: e))
        }
        out.sort { ($0.version, $0.file ?? "") < ($1.version, $1.file ?? "") }
        return MigrationStatus(versions: out, problems: set.problems, historyExists: historyExists)
    }

    /// One line per version and per file problem, for the human format of `migrate status`.
    public var lines: [String] {
        var out = versions.map { v in
            let mark = v.blocksApply ? "!!" : (v.state == .applied ? "ok" : "..")
            return "\(mark) \(v.version) \(v.name) [\(v.state.rawValue)]\(v.hasDown || v.file == nil ? "" : " (no down)") \(v.message)"
        }
        out += problems.map { "!! \($0.description)" }
        return out
    }
}

extension MigrationStatus {
    /// One formatter for every entry: creating an ISO8601DateFormatter per applied row was most of
    /// the cost of a status with a thousand rows.
    // Guarded by formatterLock.
    nonisolated(unsafe) private static let formatter = ISO8601DateFormatter()
    private static let formatterLock = NSLock()

    static func iso(_ date: Date) -> String {
        formatterLock.withLock { formatter.string(from: date) }
    }
}
