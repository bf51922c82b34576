import Foundation
import Postgres
import Testing
import TestSupport

/// `migrate apply` parses every file in one batch over the cores (and connects meanwhile): the order of
/// the work changed, not its rules. A syntax error in any file — first, middle or last of many — is
/// invalid input naming file:line:col before anything is applied (dry-run too), and a lint error in the
/// last file still stops apply with nothing committed.
@Suite("migrate apply: parse and lint order", .enabled(if: TestDatabase.available), .serialized)
struct MigrateParseOrderTests {
    static let count = 60

    func scalar(_ url: String, _ sql: String) throws -> String? { try Probe.scalar(url, sql) }

    /// `count` lint-clean migrations (the benchmark's): odd versions create a table with an index,
    /// even ones add a column to it and insert a row.
    func project(_ label: String) throws -> (Project, String) {
        let url = try TestDatabase.fresh(label)
        let p = Project(databaseURL: url)
        for i in 1...Self.count {
            let v = String(format: "%04d", i)
            if i % 2 == 1 {
                try p.file("migrations/\(v)_create_b\(i).sql", """
                    SET lock_timeout = '5s';
                    SET statement_timeout = '5min';
                    CREATE TABLE b\(i) (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
                    CREATE INDEX b\(i)_name ON b\(i) (name);

                    """)
                try p.file("migrations/\(v)_create_b\(i).down.sql", "DROP TABLE b\(i);\n")
            } else {
                try p.file("migrations/\(v)_note_b\(i - 1).sql", """
                    SET lock_timeout = '5s';
                    SET statement_timeout = '5min';
                    ALTER TABLE b\(i - 1) ADD COLUMN note text;
                    INSERT INTO b\(i - 1) (name, note) VALUES ('seed', 'n\(i)');

                    """)
                try p.file("migrations/\(v)_note_b\(i - 1).down.sql",
                           "SET lock_timeout = '5s';\nALTER TABLE b\(i - 1) DROP COLUMN note; -- opsctl:ignore ban-drop-column\n")
            }
        }
        return (p, url)
    }

    func nothingApplied(_ url: String) throws -> Bool {
        let tables = try scalar(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        guard try scalar(url, "SELECT to_regclass('opsctl.schema_migrations')::text") != nil else { return tables == "0" }
        let rows = try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations")
        return tables == "0" && rows == "0"
    }

    @Test("a syntax error in the first, a middle or the last of many files names its file:line:col", arguments: [1, 31, 60])
    func aSyntaxErrorInAnyFileNamesIt(position: Int) throws {
        let (p, url) = try project("parse_order_\(position)")
        let v = String(format: "%04d", position)
        let name = position % 2 == 1 ? "\(v)_create_b\(position).sql" : "\(v)_note_b\(position - 1).sql"
        try p.file("migrations/" + name, "SET lock_timeout = '5s';\nSET statement_timeout = '5min';\nCREATE TABLE oops (id bigint,,);\n")
        for args in [["migrate", "apply", "--dry-run"], ["migrate", "apply"]] {
            let out = try p.opsctl(args)
            let text = out.stdout + out.stderr
            #expect(out.exitCode == 65, "\(args.joined(separator: " ")): \(text)")
            #expect(text.contains("\(name):3:30"), "\(args.joined(separator: " ")) names file:line:col: \(text)")
            #expect(text.contains("SQLSTATE 42601"), "\(text)")
        }
        #expect(try nothingApplied(url), "nothing applied, nothing recorded")
    }

    @Test("OPSCTL_PHASES=1 prints the apply's timeline on stderr, in order; without it, nothing")
    func phasesTimeline() throws {
        let (p, url) = try project("phases_timeline")
        let quiet = try p.opsctl(["migrate", "apply", "--dry-run"])
        #expect(quiet.exitCode == 0, "\(quiet.stdout)\(quiet.stderr)")
        #expect(!quiet.stderr.contains("phase "), "\(quiet.stderr)")
        let out = try p.opsctl(["migrate", "apply", "--format", "json"], env: ["OPSCTL_PHASES": "1"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let marks = out.stderr.split(separator: "\n").filter { $0.hasPrefix("phase ") }
            .map { $0.split(separator: " ", maxSplits: 4).map(String.init) }.filter { $0.count == 5 }
        let names = marks.map { $0[4] }
        for expected in ["main", "files parsed", "migration lock taken", "first migration sent", "last migration read back", "report written"] {
            #expect(names.contains(expected), "\(expected) in \(names)")
        }
        let at = { (name: String) in marks.first { $0[4] == name }.flatMap { Double($0[1]) } ?? -1 }
        #expect(at("main") >= 0 && at("main") < 1, "the first mark starts the clock")
        #expect(at("files parsed") < at("first migration sent") && at("first migration sent") < at("last migration read back")
                && at("last migration read back") <= at("report written"), "\(names)")
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations WHERE status = 'applied'") == "\(Self.count)")
    }

    @Test func aLintErrorInTheLastFileStopsApplyWithNothingCommitted() throws {
        let (p, url) = try project("lint_order_last")
        // The last migration drops a table: ban-drop-table is an error.
        try p.file("migrations/0060_note_b59.sql", "SET lock_timeout = '5s';\nSET statement_timeout = '5min';\nDROP TABLE b1;\n")
        let out = try p.opsctl(["migrate", "apply"])
        let text = out.stdout + out.stderr
        #expect(out.exitCode == 1, "\(text)")
        #expect(text.contains("0060_note_b59.sql:3:1"), "the finding names the last file: \(text)")
        #expect(text.contains("ban-drop-table"), "\(text)")
        #expect(try nothingApplied(url), "lint stopped apply before anything committed")
        // Fixed, the same files apply in full.
        try p.file("migrations/0060_note_b59.sql", "SET lock_timeout = '5s';\nSET statement_timeout = '5min';\nALTER TABLE b59 ADD COLUMN note text;\n")
        let again = try p.opsctl(["migrate", "apply"])
        #expect(again.exitCode == 0, "\(again.stdout)\(again.stderr)")
        #expect(try scalar(url, "SELECT count(*) FROM opsctl.schema_migrations WHERE status = 'applied'") == "\(Self.count)")
    }
}
