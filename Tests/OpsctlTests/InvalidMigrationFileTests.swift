import Foundation
import Postgres
import Testing
import TestSupport

/// Issue 12 item 3: a migration that is not UTF-8 text (a Latin-1 `é`, a NUL byte, a binary file) or
/// cannot be read is invalid input for status, lint, apply and rollback: exit 65 naming the file, its
/// line:col and the byte offset, and nothing is applied — not even the good migrations around it.
@Suite("invalid migration files", .enabled(if: TestDatabase.available), .serialized)
struct InvalidMigrationFileTests {
    enum Bad: String, CaseIterable, Sendable {
        case latin1, nul, binary, unreadable

        /// Writes `002_bad.sql`; returns what the message must say.
        func write(to dir: String) throws -> String {
            let path = dir + "/002_bad.sql"
            switch self {
            case .latin1:
                // "CREATE TABLE café" saved as Latin-1: é is the single byte 0xE9 at offset 23.
                try Data("-- two\nCREATE TABLE caf".utf8 + [0xE9] + Data(" (id bigint);\n".utf8)).write(to: URL(fileURLWithPath: path))
                return "002_bad.sql:2:17: invalid UTF-8 (byte 0xE9) at byte offset 23"
            case .nul:
                try Data("CREATE TABLE two (id bigint);\n".utf8 + [0] + Data("DROP TABLE one;\n".utf8)).write(to: URL(fileURLWithPath: path))
                return "002_bad.sql:2:1: NUL byte (a binary file, or text saved as UTF-16?) at byte offset 30"
            case .binary:
                try Data([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00]).write(to: URL(fileURLWithPath: path))
                return "002_bad.sql:1:1: control byte 0x7F (a binary file?) at byte offset 0"
            case .unreadable:
                // A dangling symlink cannot be opened even by root (permissions would not stop root).
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: dir + "/gone.sql")
                return "002_bad.sql:1:1: cannot read the file: No such file or directory"
            }
        }
    }

    func scalar(_ url: String, _ sql: String) throws -> String? {
        let db = try PostgresConnection(dsn: url, applicationName: "opsctl-test-probe")
        defer { db.close() }
        return try db.query(sql).first?[0].string
    }

    @Test(arguments: Bad.allCases)
    func invalidInputForEveryVerbAndNothingIsApplied(_ bad: Bad) throws {
        let url = try TestDatabase.fresh("bad_file_\(bad.rawValue)")
        let p = Project(databaseURL: url)
        try p.file("migrations/001_one.sql", "CREATE TABLE one (id bigint);\n")
        try p.file("migrations/001_one.down.sql", "DROP TABLE one;\n")
        let first = try p.opsctl(["migrate", "apply"])
        #expect(first.exitCode == 0, "\(first.stdout)\(first.stderr)")

        let expected = try bad.write(to: p.dir.path + "/migrations")
        try p.file("migrations/002_bad.down.sql", "SELECT 1;\n")
        try p.file("migrations/003_three.sql", "CREATE TABLE three (id bigint);\n")
        try p.file("migrations/003_three.down.sql", "DROP TABLE three;\n")

        for verb in [["status"], ["lint"], ["apply"], ["rollback", "--steps", "1"], ["lint", "migrations/002_bad.sql"]] {
            let out = try p.opsctl(["migrate"] + verb)
            let text = out.stdout + out.stderr
            #expect(out.exitCode == 65, "migrate \(verb.joined(separator: " ")): \(text)")
            #expect(text.contains(expected), "migrate \(verb.joined(separator: " ")) names file, place and byte offset: \(text)")
        }
        #expect(try scalar(url, "SELECT to_regclass('three')::text") == nil, "the good migration after the bad one is not applied")
        #expect(try scalar(url, "SELECT to_regclass('one')::text") == "one", "nor is the applied one rolled back")
        #expect(try scalar(url, "SELECT string_agg(version || ' ' || status, ', ') FROM opsctl.schema_migrations") == "1 applied")
    }

    /// A bad down script is refused too: rollback would run a truncated or mis-decoded script.
    @Test func invalidDownScriptIsInvalidInput() throws {
        let url = try TestDatabase.fresh("bad_down_file")
        let p = Project(databaseURL: url)
        try p.file("migrations/001_one.sql", "CREATE TABLE one (id bigint);\n")
        try Data("DROP TABLE one;\n".utf8 + [0] + Data("garbage".utf8)).write(to: URL(fileURLWithPath: p.dir.path + "/migrations/001_one.down.sql"))
        let apply = try p.opsctl(["migrate", "apply"])
        #expect(apply.exitCode == 65, "\(apply.stdout)\(apply.stderr)")
        #expect((apply.stdout + apply.stderr).contains("001_one.down.sql:2:1: NUL byte"), "\(apply.stdout)\(apply.stderr)")
        #expect(try scalar(url, "SELECT to_regclass('one')::text") == nil)
    }
}
