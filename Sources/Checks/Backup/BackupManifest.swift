import Crypto
import Foundation
import Support

/// What opsctl knows about one dump, written beside it as `<file>.manifest.json`: enough to prove a
/// restore complete (row counts, schema version) and the file intact (sha256).
public struct BackupManifest: Codable, Sendable, Equatable {
    /// File name (not path): the manifest travels with the file when both are copied elsewhere.
    public var file: String
    /// `custom` (pg_dump -Fc) or `plain` (SQL).
    public var format: String
    public var createdAt: Date
    public var environment: String?
    public var database: String?
    public var serverVersion: String?
    /// Highest applied version in the migration history, nil when the database has none.
    public var schemaVersion: Int64?
    public var rowCounts: [String: Int64]
    public var sha256: String
    public var sizeBytes: Int64
    public var durationMs: Int
    /// Why it was taken when not on request: `pre-restore` for restore's safety dump.
    public var label: String?

    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }

    static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        d.dateDecodingStrategy = .iso8601
        return d
    }

    public var json: JSONValue {
        guard let data = try? Self.encoder.encode(self), let value = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            return .null
        }
        return value
    }
}

/// A directory of dumps and their manifests.
public struct BackupStore: Sendable {
    public var directory: String

    public init(directory: String) { self.directory = directory }

    /// One dump file, with its manifest when it has one (a file copied in by hand may not).
    public struct Entry: Sendable {
        public var path: String
        public var manifest: BackupManifest?
        public var createdAt: Date
        public var sizeBytes: Int64
        public var format: String
        /// The file's modification time: orders backups made within the same second (the manifest's
        /// creation time has whole seconds), so `latest` is the one written last.
        public var modifiedAt: Date = Date(timeIntervalSince1970: 0)
        public var name: String { (path as NSString).lastPathComponent }
    }

    static let dumpExtensions = ["dump", "sql", "backup", "pgdump"]

    public static func manifestPath(for file: String) -> String { file + ".manifest.json" }

    public static func readManifest(for file: String) throws -> BackupManifest? {
        let path = manifestPath(for: file)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do { return try BackupManifest.decoder.decode(BackupManifest.self, from: data) } catch {
            throw StepError("\(path) is not a readable opsctl manifest: \(error)")
        }
    }

    /// Dumps in the directory, newest first. A missing directory holds none.
    public func entries() throws -> [Entry] {
        let fm = FileManager.default
        guard fm.fileExists(atPath: directory) else { return [] }
        let names = try fm.contentsOfDirectory(atPath: directory)
            .filter { name in !name.hasPrefix(".") && Self.dumpExtensions.contains((name as NSString).pathExtension) }
        return try names.map { name -> Entry in
            let path = directory + "/" + name
            let attributes = try fm.attributesOfItem(atPath: path)
            // A damaged manifest does not hide the dump: it is listed as one without a manifest.
            let manifest = (try? Self.readManifest(for: path)) ?? nil
            let modified = attributes[.modificationDate] as? Date ?? Date(timeIntervalSince1970: 0)
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            return Entry(path: path, manifest: manifest, createdAt: manifest?.createdAt ?? modified, sizeBytes: size,
                         format: manifest?.format ?? ((try? Self.format(of: path)) ?? "unknown"), modifiedAt: modified)
        }.sorted { ($0.createdAt, $0.modifiedAt) > ($1.createdAt, $1.modifiedAt) }
    }

    /// `custom` when the file starts with pg_dump's archive magic `PGDMP`, else `plain` (SQL text).
    public static func format(of path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StepError("cannot read backup file \(path)") }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 5)) ?? Data()
        return head == Data("PGDMP".utf8) ? "custom" : "plain"
    }

    /// sha256 of a file, read in 1 MB blocks (dumps are large).
    public static func sha256(of path: String, cancellation: Cancellation? = nil) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StepError("cannot read backup file \(path)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            if cancellation?.isCancelled == true { throw StepError("cancelled while checksumming \(path)") }
            guard let block = try handle.read(upToCount: 1 << 20), !block.isEmpty else { break }
            hasher.update(data: block)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Writes data so a reader sees the old file or the whole new one, never half of it.
    public static func writeAtomically(_ data: Data, to path: String) throws {
        let tmp = (path as NSString).deletingLastPathComponent + "/." + (path as NSString).lastPathComponent + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: data) else { throw StepError("cannot write \(tmp)") }
        try publish(tmp, as: path)
    }

    /// fsync then rename: after a crash the name points at complete content or does not exist.
    public static func publish(_ tmp: String, as path: String) throws {
        let fd = open(tmp, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw StepError("cannot move \(tmp) to \(path): \(reason)")
        }
    }

    public func write(_ manifest: BackupManifest, for file: String) throws {
        try Self.writeAtomically(try BackupManifest.encoder.encode(manifest), to: Self.manifestPath(for: file))
    }

    /// A new file name: `<database>-<UTC time>[-label].<dump|sql>`, never one that exists.
    public func newPath(database: String, format: String, label: String?, at date: Date) -> String {
        let stamp = Self.stampFormatter.string(from: date)
        let safe = String(database.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "_" })
        let stem = "\(safe.isEmpty ? "db" : safe)-\(stamp)" + (label.map { "-\($0)" } ?? "")
        let ext = format == "plain" ? "sql" : "dump"
        var candidate = "\(directory)/\(stem).\(ext)"
        var n = 2
        while FileManager.default.fileExists(atPath: candidate) {
            candidate = "\(directory)/\(stem)-\(n).\(ext)"
            n += 1
        }
        return candidate
    }

    static var stampFormatter: DateFormatter {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return f
    }

    /// A backup named on the command line: a path, a file name in the directory, or `latest`.
    public func resolve(_ name: String) throws -> String {
        if name.isEmpty || name == "latest" {
            guard let newest = try entries().first else { throw StepError("no backups in \(directory): create one with 'opsctl backup create'") }
            return newest.path
        }
        if FileManager.default.fileExists(atPath: name) { return name }
        let inDirectory = directory + "/" + name
        if FileManager.default.fileExists(atPath: inDirectory) { return inDirectory }
        throw StepError("backup file \(name) not found (looked in the working directory and \(directory))")
    }
}
