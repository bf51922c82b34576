import Foundation
import Migrations
import Postgres
import TestSupport

/// A temporary migration directory filled from `files` (relative path -> SQL).
struct TempMigrations {
    let directory: String

    init(_ files: [String: String]) throws {
        directory = NSTemporaryDirectory() + "opsctl-mig-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, sql) in files { try write(name, sql) }
    }

    func write(_ name: String, _ sql: String) throws {
        let path = (directory as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try sql.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func config(_ change: (inout MigrationConfig) -> Void = { _ in }) -> MigrationConfig {
        var c = MigrationConfig(directory: directory, lockTimeoutMs: 300, lockRetries: 1, retryDelay: 0.05)
        change(&c)
        return c
    }
}

/// Fixture directories shipped with the tests.
enum Fixtures {
    static var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    }
    static var reference: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/churn-saver/migrations").path
    }
}

func scalar(_ url: String, _ sql: String) throws -> String? {
    let db = try PostgresConnection(dsn: url, applicationName: "opsctl-test")
    defer { db.close() }
    return try db.query(sql).first?[0].string
}
