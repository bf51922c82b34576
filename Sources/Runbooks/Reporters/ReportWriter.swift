import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

/// A report that could not be written: names the path, the reason and what to check.
public struct ReportWriterError: Error, CustomStringConvertible, Sendable {
    /// The `--output` path (or `standard output`).
    public var path: String
    /// The errno of the failing call.
    public var code: Int32

    public var description: String {
        let directory = (path as NSString).deletingLastPathComponent.isEmpty
            ? "." : (path as NSString).deletingLastPathComponent
        let reason = String(cString: strerror(code))
        let hint: String
        switch code {
        case ENOENT: hint = "check that the directory '\(directory)' exists"
        case EACCES, EPERM: hint = "check that the directory '\(directory)' is writable by the user running opsctl"
        case ENOTDIR: hint = "check the path: a part of '\(directory)' is a file, not a directory"
        case EISDIR: hint = "'\(path)' is a directory: give a file name to --output"
        case EROFS: hint = "the file system holding '\(directory)' is read-only: choose another --output path"
        case ENOSPC, EDQUOT: hint = "free space (or quota) on the device holding '\(directory)'"
        case EPIPE: hint = "the reader of standard output went away"
        default: hint = "check the path and the permissions of '\(directory)'"
        }
        return "cannot write the report to '\(path)': \(reason); \(hint)"
    }
}

/// Writes rendered reports to standard output or `--output FILE`, masking every secret.
///
/// Files are replaced atomically (temp file in the same directory, fsync, rename): the
/// node_exporter textfile collector and CI never see half a report. Streamed chunks (jsonl)
/// go to standard output at once; for a file they collect in the temp file until `finish()`.
public final class ReportWriter: @unchecked Sendable {
    public enum Destination: Sendable, Equatable {
        case standardOutput
        case file(String)
    }

    public let destination: Destination
    private let masker: SecretMasker
    private let lock = NSLock()
    private var temp: (fd: Int32, path: String)?
    private var failure: ReportWriterError?

    /// `nil` or `-` is standard output; anything else a file path.
    public convenience init(output: String?, masker: SecretMasker = .shared) {
        if let output, output != "-" { self.init(destination: .file(output), masker: masker) }
        else { self.init(destination: .standardOutput, masker: masker) }
    }

    public init(destination: Destination, masker: SecretMasker = .shared) {
        self.destination = destination
        self.masker = masker
    }

    deinit {
        if let temp {
            close(temp.fd)
            if !temp.path.isEmpty { unlink(temp.path) }
        }
    }

    /// Checks before a run that the report will be writable, so a long run does not end in
    /// "cannot write": creates and removes a temp file beside the target.
    public func validate() throws {
        guard case let .file(path) = destination else { return }
        try checkNotDirectory(path)
        var target = stat()
        if stat(path, &target) == 0, (target.st_mode & S_IFMT) != S_IFREG {
            // Opening a FIFO would wait for its reader (and then hand it an early end of file).
            guard access(path, W_OK) == 0 else { throw ReportWriterError(path: path, code: errno) }
            return
        }
        let (fd, tempPath) = try openTemp(for: path)
        close(fd)
        if !tempPath.isEmpty { unlink(tempPath) }
    }

    /// Writes a whole document: to standard output, or atomically replacing the file.
    public func write(_ document: String) throws {
        let data = Array(masker.mask(document).utf8)
        switch destination {
        case .standardOutput:
            try writeAll(1, data, path: "standard output")
        case let .file(path):
            try checkNotDirectory(path)
            let (fd, tempPath) = try openTemp(for: path)
            do {
                try writeAll(fd, data, path: path)
                try commit(fd: fd, tempPath: tempPath, to: path)
            } catch {
                close(fd)
                if !tempPath.isEmpty { unlink(tempPath) }
                throw error
            }
        }
    }

    /// Streams one chunk; the first failure is kept and thrown by `finish()`.
    public func append(_ chunk: String) {
        let data = Array(masker.mask(chunk).utf8)
        lock.withLock {
            guard failure == nil else { return }
            do {
                switch destination {
                case .standardOutput:
                    try writeAll(1, data, path: "standard output")
                case let .file(path):
                    if temp == nil {
                        try checkNotDirectory(path)
                        temp = try openTemp(for: path)  // a device or FIFO: opened in place, no temp path
                    }
                    if let temp { try writeAll(temp.fd, data, path: path) }
                }
            } catch let error as ReportWriterError {
                failure = error
            } catch {
                failure = ReportWriterError(path: "\(destination)", code: EIO)
            }
        }
    }

    /// A sink for `Reporter` hooks that appends through this writer.
    public var sink: @Sendable (String) -> Void {
        { [self] chunk in append(chunk) }
    }

    /// Ends a streamed report: renames the temp file into place, or throws the first write error.
    public func finish() throws {
        try lock.withLock {
            if let failure {
                if let temp { close(temp.fd); unlink(temp.path) }
                temp = nil
                throw failure
            }
            guard case let .file(path) = destination, let current = temp else { return }
            temp = nil
            if current.path.isEmpty {
                close(current.fd)
                return
            }
            do {
                try commit(fd: current.fd, tempPath: current.path, to: path)
            } catch {
                close(current.fd)
                unlink(current.path)
                throw error
            }
        }
    }

    // MARK: POSIX

    private func checkNotDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ReportWriterError(path: path, code: EISDIR)
        }
    }

    /// `.<name>.<random>.tmp` beside the target: same file system (rename is atomic) and a
    /// suffix the textfile collector ignores (it reads only `*.prom`).
    ///
    /// A target that exists and is not a regular file (`/dev/null`, a FIFO, `/dev/stderr`) is written
    /// directly: renaming over it would replace the device with a file (as root, for everyone).
    /// The returned temp path is then empty.
    private func openTemp(for path: String) throws -> (fd: Int32, path: String) {
        var target = stat()
        if stat(path, &target) == 0, (target.st_mode & S_IFMT) != S_IFREG {
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ReportWriterError(path: path, code: errno) }
            return (fd, "")
        }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let tempPath = directory + "/." + url.lastPathComponent + "." + String(UInt32.random(in: .min ... .max), radix: 36) + ".tmp"
        let fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ReportWriterError(path: path, code: errno) }
        // Keep an existing report's mode (e.g. 0640 for a group-readable textfile directory).
        var existing = stat()
        if stat(path, &existing) == 0 { fchmod(fd, existing.st_mode & 0o7777) }
        return (fd, tempPath)
    }

    private func commit(fd: Int32, tempPath: String, to path: String) throws {
        if tempPath.isEmpty { // written in place (a device or FIFO): nothing to rename
            guard close(fd) == 0 else { throw ReportWriterError(path: path, code: errno) }
            return
        }
        guard fsync(fd) == 0 else { throw ReportWriterError(path: path, code: errno) }
        guard close(fd) == 0 else { throw ReportWriterError(path: path, code: errno) }
        guard rename(tempPath, path) == 0 else {
            let code = errno
            unlink(tempPath)
            throw ReportWriterError(path: path, code: code)
        }
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReportWriterError(path: path, code: errno)
            }
            offset += n
        }
    }
}
