import Foundation

/// Turns a Foundation file error into one line an operator can act on: what was being done, the path,
/// the reason in plain words and what to try. Foundation's own text on Linux is often
/// "The operation could not be completed. (NSCocoaErrorDomain error 514.)".
public enum FileErrorText {
    public static func describe(_ error: Error, doing action: String, path: String) -> String {
        let shown = path.count > 120 ? String(path.prefix(60)) + "…" + String(path.suffix(40)) + " (\(path.count) characters)" : path
        return "cannot \(action) \(shown): \(reason(error))" + (advice(error).map { " — \($0)" } ?? "")
    }

    /// The errno behind the error, when Foundation kept it.
    static func posixCode(_ error: Error) -> Int32? {
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return Int32(ns.code) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return Int32(underlying.code)
        }
        return nil
    }

    static func reason(_ error: Error) -> String {
        if let code = posixCode(error) { return String(cString: strerror(code)).lowercased() }
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain else { return ns.localizedDescription }
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or directory"
        case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
        case .fileReadInvalidFileName, .fileWriteInvalidFileName: return "the name is not valid here (too long, or a character the file system refuses)"
        case .fileWriteOutOfSpace: return "no space left on the device"
        case .fileWriteVolumeReadOnly: return "read-only file system"
        case .fileWriteFileExists: return "it already exists"
        case .fileReadCorruptFile, .fileReadInapplicableStringEncoding: return "the content is not UTF-8 text"
        default: return "file system error \(ns.code)"
        }
    }

    static func advice(_ error: Error) -> String? {
        if let code = posixCode(error) {
            switch code {
            case EACCES, EPERM: return "check the permissions (ls -ld) of the path and its parent directories"
            case ENAMETOOLONG: return "use a shorter name"
            case ENOENT: return "check the path"
            case ENOTDIR: return "a directory was expected: check the path"
            case ENOSPC: return "free some space"
            case EROFS: return "use a writable location"
            default: return nil
            }
        }
        switch CocoaError.Code(rawValue: (error as NSError).code) {
        case .fileReadNoPermission, .fileWriteNoPermission: return "check the permissions (ls -ld) of the path and its parent directories"
        case .fileReadInvalidFileName, .fileWriteInvalidFileName: return "use a shorter name with letters, digits and '_'"
        case .fileNoSuchFile, .fileReadNoSuchFile: return "check the path"
        default: return nil
        }
    }
}
