import Foundation
import Support

/// A problem with the set of files itself (before any SQL runs).
public struct FileProblem: Sendable, CustomStringConvertible {
    /// The lint rule id it corresponds to: `duplicate-version`, `missing-down`, `down-pattern-mismatch`, `unreadable-file`.
    public var rule: String
    public var file: String
    public var version: Int64?
    public var message: String

    public var description: String { "\(file): \(message) [\(rule)]" }
}

/// The migrations of a directory in version order, plus what is wrong with the files.
public struct MigrationSet: Sendable {
    public var directory: String
    public var migrations: [Migration]
    public var problems: [FileProblem]

    /// Versions used by more than one file.
    public var duplicateVersions: Set<Int64> {
        var seen: [Int64: Int] = [:]
        for m in migrations { seen[m.version, default: 0] += 1 }
        return Set(seen.filter { $0.value > 1 }.keys)
    }

    public func migration(_ version: Int64) -> Migration? { migrations.first { $0.version == version } }

    /// Absolute path of a file named relative to the directory.
    public func path(_ relative: String) -> String { (directory as NSString).appendingPathComponent(relative) }
}

/// Finds migration files: paired `NNN_name.sql` + down script (configurable naming) and single files
/// with `-- migrate:up` / `-- migrate:down` sections; versions ordered numerically.
public enum Discovery {
    static let upName = try! NSRegularExpression(pattern: #"^([0-9]+)[_-](.+)\.sql$"#)
    /// Names that look like a down script (used to explain a down the pattern did not find).
    static let downLike = try! NSRegularExpression(pattern: #"(^|[_.\-])(down|rollback|undo|revert)([_.\-]|$)"#, options: [.caseInsensitive])

    /// Throws `.invalidInput` (file:line:col and byte offset) for a migration that cannot be read as UTF-8 text.
    public static func load(_ config: MigrationConfig) throws -> MigrationSet {
        try load(directory: config.directory, downPattern: config.downPattern)
    }

    public static func load(directory: String, downPattern: String = MigrationConfig.defaultDownPattern) throws -> MigrationSet {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw MigrationError(.invalidInput, "migration directory \(directory) does not exist",
                                 nextStep: "create it or point `dir` / migrations.dir at the right place")
        }
        let listed = try sqlFiles(in: directory)
        // Stamps taken before the files are read: a write during the read changes them for the next load.
        let readAt = Int64(Date().timeIntervalSince1970)
        let key = LoadedDirectories.key(directory, downPattern)
        let stamps = LoadedDirectories.stamps(listed, in: directory)
        if let stamps, let hit = LoadedDirectories.shared.lookup(key, files: stamps) { return hit }
        let set = try read(directory: directory, downPattern: downPattern, all: Set(listed))
        if let stamps { LoadedDirectories.shared.store(key, files: stamps, set, readAt: readAt) }
        return set
    }

    /// Reads, validates and pairs the `.sql` files `all` of `directory`.
    static func read(directory: String, downPattern: String, all: Set<String>) throws -> MigrationSet {
        var problems: [FileProblem] = []

        // Top-level candidates `NNN_name.sql`.
        var candidates: [(file: String, versionText: String, name: String)] = []
        for file in all where !file.contains("/") {
            let ns = file as NSString
            guard let m = upName.firstMatch(in: file, range: NSRange(location: 0, length: ns.length)) else { continue }
            candidates.append((file, ns.substring(with: m.range(at: 1)), ns.substring(with: m.range(at: 2))))
        }
        func expectedDown(_ c: (file: String, versionText: String, name: String)) -> String {
            fill(downPattern, version: c.versionText, name: c.name)
        }
        // A file that is the expected down of another candidate is a down, not an up.
        let expectedDowns = Set(candidates.map(expectedDown))
        // The files the loop below reads, read (and checked) over the cores first; the loop still meets
        // them, and their errors, in its own order.
        let texts = readAll(directory, candidates.filter { !expectedDowns.contains($0.file) }
                                .flatMap { c in [c.file] + [expectedDown(c)].filter(all.contains) })
        func read(_ file: String) throws -> String {
            try (texts[file] ?? Result { try MigrationFileReader.read((directory as NSString).appendingPathComponent(file), display: file) }).get()
        }
        var downsUsed = Set<String>()
        var migrations: [Migration] = []
        for c in candidates where !expectedDowns.contains(c.file) {
            guard let version = Int64(c.versionText) else {
                problems.append(FileProblem(rule: "unreadable-file", file: c.file, message: "version \(c.versionText) is too large"))
                continue
            }
            // An unreadable, non-UTF-8 or binary file is invalid input for every command: skipping it
            // would apply the migrations around it; reading it lossily would apply something else.
            let text = try read(c.file)
            if let sections = SingleFileFormat.split(text) {
                migrations.append(Migration(version: version, versionText: c.versionText, name: c.name, format: .single,
                                            upFile: c.file, downFile: sections.down == nil ? nil : c.file,
                                            up: sections.up, down: sections.down, expectedDownFile: nil,
                                            upMarkerNoTransaction: sections.upNoTransaction))
                if sections.down == nil {
                    problems.append(FileProblem(rule: "missing-down", file: c.file, version: version,
                                                message: "no `-- migrate:down` section: this migration cannot be rolled back"))
                }
                continue
            }
            if downLike.firstMatch(in: c.name, range: NSRange(location: 0, length: (c.name as NSString).length)) != nil {
                // `001_init_rollback.sql` next to `001_init.sql`: a down script under a name the pattern does not
                // produce. Not an up migration; reported below with the name the runner expects.
                continue
            }
            let downFile = expectedDown(c)
            var down: String?
            if all.contains(downFile) {
                down = try read(downFile)
                downsUsed.insert(downFile)
            }
            migrations.append(Migration(version: version, versionText: c.versionText, name: c.name, format: .paired,
                                        upFile: c.file, downFile: down == nil ? nil : downFile, up: text, down: down,
                                        expectedDownFile: downFile))
        }
        migrations.sort { ($0.version, $0.upFile) < ($1.version, $1.upFile) }

        // Down-looking files nobody claimed: the "runner looked for another name" defect.
        let ups = Set(migrations.map(\.upFile))
        for file in all.sorted() where !ups.contains(file) && !downsUsed.contains(file) {
            let base = (file as NSString).lastPathComponent
            let isDownLike = file.contains("/") || downLike.firstMatch(in: base, range: NSRange(location: 0, length: (base as NSString).length)) != nil
            guard isDownLike, !problems.contains(where: { $0.file == file }) else { continue }
            let owner = migrations.first { m in m.down == nil && (base.hasPrefix(m.versionText + "_") || base.hasPrefix(m.versionText + "-")) }
                ?? migrations.first { m in base.hasPrefix(m.versionText + "_") || base.hasPrefix(m.versionText + "-") }
            var message = "not used: does not match the down pattern \(downPattern)"
            if let owner, let expected = owner.expectedDownFile { message += " (the runner looks for \(expected) for \(owner.upFile))" }
            problems.append(FileProblem(rule: "down-pattern-mismatch", file: file, version: owner?.version, message: message))
        }
        for m in migrations where m.format == .paired && m.down == nil {
            problems.append(FileProblem(rule: "missing-down", file: m.upFile, version: m.version,
                                        message: "no down script: expected \(m.expectedDownFile ?? "?")"))
        }
        var byVersion: [Int64: [Migration]] = [:]
        for m in migrations { byVersion[m.version, default: []].append(m) }
        for (version, group) in byVersion.sorted(by: { $0.key < $1.key }) where group.count > 1 {
            for m in group {
                problems.append(FileProblem(rule: "duplicate-version", file: m.upFile, version: version,
                                            message: "version \(version) is used by \(group.map(\.upFile).joined(separator: " and "))"))
            }
        }
        return MigrationSet(directory: directory, migrations: migrations, problems: problems)
    }

    /// `files` (relative to `directory`) read and checked by `MigrationFileReader.read` on every core.
    static func readAll(_ directory: String, _ files: [String]) -> [String: Result<String, Error>] {
        let results = onEveryCore(files.count) { i in
            Result { try MigrationFileReader.read((directory as NSString).appendingPathComponent(files[i]), display: files[i]) }
        }
        var out: [String: Result<String, Error>] = [:]
        for (i, file) in files.enumerated() { out[file] = results[i] }
        return out
    }

    /// `.sql` files under `directory`, relative paths, one level of subdirectories (`rollback/`).
    static func sqlFiles(in directory: String) throws -> [String] {
        let entries: [(name: String, isDirectory: Bool)]
        do { entries = try listing(directory) } catch {
            throw MigrationError(.invalidInput, FileErrorText.describe(error, doing: "list the migration directory", path: directory))
        }
        var out: [String] = []
        for (entry, isDirectory) in entries where !entry.hasPrefix(".") {
            if isDirectory {
                for (sub, _) in (try? listing(directory + "/" + entry)) ?? [] where sub.hasSuffix(".sql") {
                    out.append(entry + "/" + sub)
                }
            } else if entry.hasSuffix(".sql") {
                out.append(entry)
            }
        }
        return out
    }

    /// Entries of `directory` (without `.` and `..`) and whether each is a directory, from readdir(3):
    /// the entry's type comes with its name, where a stat(2) per entry on every load of a directory of
    /// 2,000 files cost more than the rest of the listing. Throws the POSIX error of opendir(3).
    static func listing(_ directory: String) throws -> [(name: String, isDirectory: Bool)] {
        guard let dir = opendir(directory) else { throw NSError(domain: NSPOSIXErrorDomain, code: Int(errno)) }
        defer { closedir(dir) }
        var out: [(name: String, isDirectory: Bool)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var isDirectory = Int32(entry.pointee.d_type) == Int32(DT_DIR)
            if Int32(entry.pointee.d_type) == Int32(DT_UNKNOWN) || Int32(entry.pointee.d_type) == Int32(DT_LNK) {
                // Some file systems do not say, and a symlink may point at a directory: ask.
                var s = stat()
                isDirectory = fstatat(dirfd(dir), name, &s, 0) == 0 && (s.st_mode & S_IFMT) == S_IFDIR
            }
            out.append((name, isDirectory))
        }
        return out
    }
}

/// The single-file format: `-- migrate:up` ... `-- migrate:down` ...
enum SingleFileFormat {
    /// Up and down sections with the other section's lines blanked, so line numbers match the file.
    static func split(_ text: String) -> (up: String, down: String?, upNoTransaction: Bool)? {
        // Most files are plain SQL: a byte scan says so without splitting (and trimming) every line.
        guard mentionsMarker(text) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var upIndex: Int?, downIndex: Int?
        for (i, line) in lines.enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces).lowercased()
            if t.hasPrefix("-- migrate:up") || t.hasPrefix("--migrate:up") { upIndex = i }
            else if t.hasPrefix("-- migrate:down") || t.hasPrefix("--migrate:down") { downIndex = i }
        }
        guard let upIndex else { return nil }
        let upNoTransaction = lines[upIndex].replacingOccurrences(of: " ", with: "").lowercased().contains("transaction:false")
        func body(from start: Int, to end: Int) -> String {
            lines.enumerated().map { i, l in (i > start && i < end) ? String(l) : "" }.joined(separator: "\n")
        }
        let upEnd = (downIndex.map { $0 > upIndex ? $0 : lines.count }) ?? lines.count
        let up = body(from: upIndex, to: upEnd)
        guard let downIndex else { return (up, nil, upNoTransaction) }
        let downEnd = upIndex > downIndex ? upIndex : lines.count
        let down = body(from: downIndex, to: downEnd)
        return (up, down.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : down, upNoTransaction)
    }

    /// Whether `migrate:` appears anywhere (any case): no section marker without it.
    static func mentionsMarker(_ text: String) -> Bool { ASCIIText.contains(text, ignoringCase: "migrate:") }
}

extension Discovery {
    /// `{version}` and `{name}` of a down pattern filled in (natively: Foundation's
    /// replacingOccurrences, twice per file on every read of the directory, was a tenth of an apply).
    static func fill(_ pattern: String, version: String, name: String) -> String {
        var out = ""
        var rest = Substring(pattern)
        while let brace = rest.firstIndex(of: "{") {
            out += rest[..<brace]
            let tail = rest[brace...]
            if tail.hasPrefix("{version}") { out += version; rest = tail.dropFirst(9) }
            else if tail.hasPrefix("{name}") { out += name; rest = tail.dropFirst(6) }
            else { out += "{"; rest = tail.dropFirst() }
        }
        return out + rest
    }
}
