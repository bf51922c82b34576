import Foundation
import Testing
import Postgres
import TestSupport
@testable import Migrations

/// A database whose schema TypeORM owns: `baseline --import-from public.migrations` adopts TypeORM's
/// history (`id, timestamp, name`) without being told which column holds the versions.
@Suite(.enabled(if: TestDatabase.available))
struct TypeORMBaselineTests {
    @Test func typeormHistoryIsImportedFromItsTimestampColumn() throws {
        let dir = try TempMigrations([
            "1718000000000_add_a.sql": "CREATE TABLE a (id bigint);", "1718000000000_add_a.down.sql": "DROP TABLE a;",
            "1718000000001_add_b.sql": "CREATE TABLE b (id bigint);", "1718000000001_add_b.down.sql": "DROP TABLE b;",
            "1718000000002_add_c.sql": "CREATE TABLE c (id bigint);", "1718000000002_add_c.down.sql": "DROP TABLE c;",
        ])
        let url = try TestDatabase.fresh("typeorm")
        let db = try PostgresConnection(dsn: url)
        defer { db.close() }
        try db.execute("""
            CREATE TABLE a (id bigint); CREATE TABLE b (id bigint);
            CREATE TABLE migrations (id serial PRIMARY KEY, "timestamp" bigint NOT NULL, name varchar NOT NULL);
            INSERT INTO migrations ("timestamp", name) VALUES (1718000000000, 'AddA1718000000000'), (1718000000001, 'AddB1718000000001');
            """)
        let m = try Migrator(config: dir.config(), dsn: url)
        #expect(try m.baseline(version: nil, importFrom: "public.migrations") == [1718000000000, 1718000000001])
        #expect(try m.status().pending.map(\.version) == [1718000000002])
    }

    @Test func typeormNamesCarryTheirVersionAtTheEnd() {
        #expect(Migrator.importedVersion("AddWhopWebhookLogTable1718000000001") == 1718000000001)
        #expect(Migrator.importedVersion("001_a.sql") == 1)
        #expect(Migrator.importedVersion("src/migrations/002_b.sql") == 2)
        #expect(Migrator.importedVersion("initial") == nil)
    }

    @Test func aMissingColumnIsNamedWithTheTablesColumns() throws {
        let dir = try TempMigrations(["001_a.sql": "CREATE TABLE a (id bigint);", "001_a.down.sql": "DROP TABLE a;"])
        let url = try TestDatabase.fresh("typeorm_col")
        let db = try PostgresConnection(dsn: url)
        defer { db.close() }
        try db.execute("CREATE TABLE knex_migrations (id serial, name text, batch int); INSERT INTO knex_migrations (name, batch) VALUES ('001_a.sql', 1);")
        let m = try Migrator(config: dir.config(), dsn: url)
        #expect {
            try m.baseline(version: nil, importFrom: "knex_migrations")
        } throws: { error in
            "\(error)".contains("has no column version (columns: id, name, batch)")
        }
        #expect(try m.baseline(version: nil, importFrom: "knex_migrations", column: "name") == [1])
    }
}
