import Foundation
import Testing
import Postgres
import TestSupport
@testable import Migrations

/// One process loads its migration directory many times (status, lint, apply, verify): the second load
/// reuses the first unless a file changed, and a change is never missed.
@Suite(.serialized) struct LoadedDirectoriesTests {
    static let files = [
        "001_users.sql": "CREATE TABLE users (id bigint PRIMARY KEY);\n",
        "001_users.down.sql": "DROP TABLE users;\n",
        "002_orders.sql": "CREATE TABLE orders (id bigint PRIMARY KEY);\n",
        "002_orders.down.sql": "DROP TABLE orders;\n",
    ]

    /// Files older than the racy window, as a deployed migration directory is.
    static func settled() throws -> TempMigrations {
        let dir = try TempMigrations(files)
        Thread.sleep(forTimeInterval: Double(LoadedDirectories.racyWindow) + 1.1)
        return dir
    }

    static func stamps(_ dir: TempMigrations) throws -> [String: LoadedDirectories.Stamp] {
        try #require(LoadedDirectories.stamps(try Discovery.sqlFiles(in: dir.directory), in: dir.directory))
    }

    @Test func aSettledDirectoryIsReadOnceAndEveryChangeIsSeen() throws {
        let dir = try Self.settled()
        let key = LoadedDirectories.key(dir.directory, MigrationConfig.defaultDownPattern)
        let first = try Discovery.load(dir.config())
        #expect(first.migrations.map(\.version) == [1, 2])
        #expect(LoadedDirectories.shared.lookup(key, files: try Self.stamps(dir)) != nil)

        // Same size, other content: the change time moves, so the next load reads the file again.
        try dir.write("002_orders.sql", "CREATE TABLE orderz (id bigint PRIMARY KEY);\n")
        let edited = try Discovery.load(dir.config())
        #expect(edited.migration(2)?.up.contains("orderz") == true)
        #expect(edited.migration(2)?.checksumUp != first.migration(2)?.checksumUp)

        try dir.write("003_items.sql", "CREATE TABLE items (id bigint PRIMARY KEY);\n")
        #expect(try Discovery.load(dir.config()).migrations.map(\.version) == [1, 2, 3])
        try FileManager.default.removeItem(atPath: dir.directory + "/001_users.sql")
        #expect(try Discovery.load(dir.config()).migrations.map(\.version) == [2, 3])
    }

    @Test func aFileWrittenJustNowIsNeverTrustedFromItsStamp() throws {
        // Written and rewritten within the same timestamp tick with the same size, the stamps can be
        // identical: such a directory is not kept, so the rewrite is read.
        let dir = try TempMigrations(Self.files)
        let key = LoadedDirectories.key(dir.directory, MigrationConfig.defaultDownPattern)
        _ = try Discovery.load(dir.config())
        #expect(LoadedDirectories.shared.lookup(key, files: try Self.stamps(dir)) == nil)
        try dir.write("001_users.sql", "CREATE TABLE userz (id bigint PRIMARY KEY);\n")
        #expect(try Discovery.load(dir.config()).migration(1)?.up.contains("userz") == true)
    }

    @Test(arguments: [
        "SELECT 1;\n", "  \n\tSELECT 1;  \r\n", "SELECT 'é';\n", "\u{00A0}SELECT 1;\u{2028}", "SELECT 1;\u{0085}", "", " \n ",
        "SELECT 1; -- é\u{00A0}\n",
    ])
    func checksumsTrimLikeFoundation(_ text: String) {
        #expect(Migration.normalised(text) == text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The history's execution order is counted by the applier (under the lock), continuing the highest.
    @Test(.enabled(if: TestDatabase.available)) func executionOrderContinuesTheHistory() throws {
        let dir = try TempMigrations(Self.files)
        let url = try TestDatabase.fresh("exec-order")
        let m = try Migrator(config: dir.config(), dsn: url)
        _ = try m.apply(to: 1)
        try dir.write("003_items.sql", "CREATE TABLE items (id bigint PRIMARY KEY);\n")
        try dir.write("003_items.down.sql", "DROP TABLE items;\n")
        let rest = try m.apply()
        #expect(rest.completed.map(\.version) == [2, 3])
        #expect(try scalar(url, "SELECT string_agg(version || ':' || execution_order, ',' ORDER BY version) FROM opsctl.schema_migrations")
                == "1:1,2:2,3:3")
    }
}
