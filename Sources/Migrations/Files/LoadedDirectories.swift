import Foundation

/// The migration directories loaded in this process. One `migrate apply` loads its directory in eight
/// places (the command's checks of the files, status, lint and its status, apply, verify and its
/// status); listing, reading, validating and splitting every file each time was a third of opsctl's
/// CPU in an apply of 1,000 migrations. A hit needs the same directory, down pattern and file names,
/// each file with the same device, inode, size, modification and change times: a file edited, added,
/// renamed or removed since (by this process or another) makes the next load read the directory again.
/// Timestamps are coarse (a few milliseconds), so a file written within the last two seconds is never
/// trusted from its stamp (the "racy clean" case): a directory holding one is not kept.
final class LoadedDirectories: @unchecked Sendable {
    static let shared = LoadedDirectories()
    static let racyWindow: Int64 = 2

    /// What a load saw of one file: enough to notice any write to it.
    struct Stamp: Equatable {
        var device: UInt64, inode: UInt64, size: Int64
        var modified: Int64, modifiedNs: Int64, changed: Int64, changedNs: Int64
    }

    private struct Entry {
        var files: [String: Stamp]
        var set: MigrationSet
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]

    /// Stamps of `files` (relative to `directory`); nil when one cannot be stat'ed (the load reports it).
    static func stamps(_ files: [String], in directory: String) -> [String: Stamp]? {
        var out: [String: Stamp] = [:]
        out.reserveCapacity(files.count)
        // Relative to the open directory: the kernel walks one name per file, not the whole path.
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { return nil }
        defer { close(dir) }
        for file in files {
            var s = stat()
            guard fstatat(dir, file, &s, 0) == 0 else { return nil }
            out[file] = Stamp(device: UInt64(s.st_dev), inode: UInt64(s.st_ino), size: Int64(s.st_size),
                              modified: Int64(s.st_mtim.tv_sec), modifiedNs: Int64(s.st_mtim.tv_nsec),
                              changed: Int64(s.st_ctim.tv_sec), changedNs: Int64(s.st_ctim.tv_nsec))
        }
        return out
    }

    static func key(_ directory: String, _ downPattern: String) -> String { directory + "\u{0}" + downPattern }

    func lookup(_ key: String, files: [String: Stamp]) -> MigrationSet? {
        lock.withLock {
            guard let hit = entries[key], hit.files == files else { return nil }
            return hit.set
        }
    }

    /// Keeps `set` unless one of its files changed too recently for its stamp to tell a later write apart.
    func store(_ key: String, files: [String: Stamp], _ set: MigrationSet, readAt: Int64) {
        let settled = files.values.allSatisfy { max($0.modified, $0.changed) < readAt - Self.racyWindow }
        lock.withLock { entries[key] = settled ? Entry(files: files, set: set) : nil }
    }
}
