import Foundation

/// The scripts parsed in this process, by file: one `migrate apply` reads each migration in five
/// places (the command's syntax check, status, lint, apply, verify), and a parse — libpg_query on a
/// thread with a deep stack, then its JSON tree — costs more than applying a small migration. A hit
/// needs the same file and the same text (a file edited since is parsed again). Only small scripts
/// are kept, `byteBudget` bytes of SQL in all: a 200k-statement file's trees take gigabytes.
final class ParseCache: @unchecked Sendable {
    static let shared = ParseCache()
    static let byteBudget = 4 << 20

    private let lock = NSLock()
    private var scripts: [String: SQLScript] = [:]
    private var bytes = 0

    func lookup(_ sql: String, file: String) -> SQLScript? {
        lock.withLock {
            guard let hit = scripts[file], hit.source == sql else { return nil }
            return hit
        }
    }

    func store(_ script: SQLScript) {
        let size = script.source.utf8.count
        lock.withLock {
            if let old = scripts[script.file] { bytes -= old.source.utf8.count }
            guard bytes + size <= Self.byteBudget else {
                scripts[script.file] = nil
                return
            }
            scripts[script.file] = script
            bytes += size
        }
    }
}
