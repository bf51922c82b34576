import Foundation
import Postgres
import Testing
import TestSupport
@testable import Checks

/// Invalid, unused and duplicate indexes and a nearly exhausted sequence, each made for real.
@Suite("Catalog: indexes and sequences", .enabled(if: TestDatabase.available))
struct IndexAndSequenceTests {
    @Test func aFailedConcurrentUniqueIndexIsLeftInvalid() throws {
        let db = try CatalogDatabase("invalid_indexes")
        try db.sql("CREATE TABLE members (email text); INSERT INTO members VALUES ('a@x'), ('a@x'), ('b@x')")
        #expect(try db.run(PostgresInvalidIndexes.self).status == .ok)
        for name in ["members_email_key", "members_email_key2"] {
            #expect(throws: (any Error).self) { try db.sql("CREATE UNIQUE INDEX CONCURRENTLY \(name) ON members (email)") }
        }
        let warned = try db.run(PostgresInvalidIndexes.self, ["warn": 1, "crit": 3])
        #expect(warned.status == .warn, "\(warned.message)")
        #expect(warned.message == "2 invalid index(s): members_email_key, members_email_key2")
        #expect(try db.run(PostgresInvalidIndexes.self, ["warn": 1, "crit": 2]).status == .fail)
        try db.sql("DROP INDEX members_email_key; DROP INDEX members_email_key2")
        #expect(try db.run(PostgresInvalidIndexes.self).status == .ok)
    }

    @Test func anIndexNobodyScansIsUnusedOnceItIsBigEnough() throws {
        let db = try CatalogDatabase("unused_indexes")
        try db.sql("""
            CREATE TABLE orders (id int PRIMARY KEY, customer int, status text);
            INSERT INTO orders SELECT g, g % 500, 'paid' FROM generate_series(1, 50000) g;
            CREATE INDEX orders_customer ON orders (customer);
            CREATE INDEX orders_status ON orders (status)
            """)
        // orders_customer is used; orders_status never is; the primary key is never reported.
        try db.sql("SET enable_seqscan = off; SELECT count(*) FROM orders WHERE customer = 7")
        try db.waitUntil("(SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'orders_customer') > 0")
        let warned = try db.run(PostgresUnusedIndexes.self, ["min_size": 16_384])
        #expect(warned.status == .warn, "\(warned.message)")
        #expect(warned.message.hasPrefix("1 unused index(s): orders_status"), "\(warned.message)")
        #expect(try db.run(PostgresUnusedIndexes.self, ["min_size": 16_384, "crit": 1]).status == .fail)
        #expect(try db.run(PostgresUnusedIndexes.self).status == .ok, "under the default 1 MB floor")
    }

    @Test func twoIdenticalIndexesAreDuplicates() throws {
        let db = try CatalogDatabase("duplicate_indexes")
        try db.sql("CREATE TABLE payments (id int PRIMARY KEY, member int, created_at timestamptz); CREATE INDEX payments_member ON payments (member)")
        #expect(try db.run(PostgresDuplicateIndexes.self).status == .ok)
        try db.sql("CREATE INDEX payments_member_again ON payments (member); CREATE INDEX payments_member_partial ON payments (member) WHERE created_at IS NULL")
        let warned = try db.run(PostgresDuplicateIndexes.self)
        #expect(warned.status == .warn, "\(warned.message)")
        #expect(warned.message == "1 duplicate index set(s): payments (payments_member, payments_member_again)", "the partial index differs")
        try db.sql("CREATE UNIQUE INDEX payments_id_again ON payments (id)")
        let failed = try db.run(PostgresDuplicateIndexes.self, ["warn": 1, "crit": 2])
        #expect(failed.status == .fail, "\(failed.message)")
        #expect(failed.message.contains("payments (payments_pkey, payments_id_again)"), "the primary key is listed first: \(failed.message)")
    }

    @Test func aSmallintSequenceNearItsMaximumIsExhausting() throws {
        let db = try CatalogDatabase("sequences")
        try db.sql("CREATE SEQUENCE ticket_seq AS smallint; SELECT nextval('ticket_seq'); CREATE TABLE big (id bigserial)")
        let ok = try db.run(PostgresSequences.self)
        #expect(ok.status == .ok, "\(ok.message)")
        try db.sql("SELECT setval('ticket_seq', 25000)")
        let warned = try db.run(PostgresSequences.self)
        #expect(warned.status == .warn, "\(warned.message)")
        #expect(warned.message.contains("ticket_seq: 76.3 % of its range used"), "\(warned.message)")
        try db.sql("SELECT setval('ticket_seq', 32000)")
        let failed = try db.run(PostgresSequences.self)
        #expect(failed.status == .fail)
        let worst = try #require(failed.detail("worst")?.array?.first?.object)
        #expect(worst["last_value"]?.int == 32000)
        #expect(worst["limit"]?.int == 32767)
    }
}
