import Foundation
import Postgres

/// What a retention policy needs to know about its table before deleting anything: it exists, its key
/// and time column, the SQL of the age condition, and the archive target. Every check a dry-run can make.
struct RetentionTable {
    let policy: RetentionPolicy
    /// Quoted names, safe to splice: they come from configuration and are quoted part by part.
    let tableSQL: String
    let keySQL: String
    let key: String
    let keyType: String
    /// `"created_at" < $1::timestamptz AND (status = 'processed')`: the cutoff is always `$1`.
    let ageCondition: String
    let archiveTableSQL: String?
    let archiveExists: Bool

    var integerKey: Bool { ["smallint", "integer", "bigint"].contains(keyType) }

    static let timeTypes = ["timestamp with time zone", "timestamp without time zone", "date"]

    init(_ policy: RetentionPolicy, _ db: PostgresConnection) throws {
        self.policy = policy
        guard try db.query("SELECT to_regclass($1) IS NOT NULL AS present", [quoteQualifiedName(policy.table)]).first?["present"].bool == true else {
            throw StepError("retention \(policy.name): table \(policy.table) does not exist (service.retention names it)")
        }
        tableSQL = quoteQualifiedName(policy.table)
        let regclass = quoteQualifiedName(policy.table)
        if let key = policy.key {
            self.key = key
        } else {
            let keys = try db.query("""
                SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                 WHERE i.indrelid = $1::regclass AND i.indisprimary
                """, [regclass]).rows.compactMap { $0["name"].string }
            guard keys.count == 1, let only = keys.first else {
                throw StepError("retention \(policy.name): \(policy.table) has \(keys.isEmpty ? "no primary key" : "a primary key of \(keys.count) columns"); batches range over one indexed column: set key: in its policy")
            }
            self.key = only
        }
        keySQL = quoteIdentifier(key)
        func columnType(_ name: String) throws -> String? {
            try db.query("""
                SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute
                 WHERE attrelid = $1::regclass AND attname = $2 AND attnum > 0 AND NOT attisdropped
                """, [regclass, name]).first?["type"].string
        }
        guard let keyType = try columnType(key) else { throw StepError("retention \(policy.name): \(policy.table) has no column \(key) (key)") }
        self.keyType = keyType
        guard let timeType = try columnType(policy.timeColumn) else {
            throw StepError("retention \(policy.name): \(policy.table) has no column \(policy.timeColumn) (time_column)")
        }
        guard Self.timeTypes.contains(timeType) else {
            throw StepError("retention \(policy.name): \(policy.table).\(policy.timeColumn) is \(timeType), not a timestamp or date")
        }
        ageCondition = "\(quoteIdentifier(policy.timeColumn)) < $1::timestamptz" + (policy.condition.map { " AND (\($0))" } ?? "")
        if case let .table(archive)? = policy.archive {
            let sql = quoteQualifiedName(archive)
            archiveTableSQL = sql
            archiveExists = try db.query("SELECT to_regclass($1) IS NOT NULL AS present", [sql]).first?["present"].bool == true
            if archiveExists {
                // INSERT ... SELECT * pairs columns by position: the archive must have the table's columns in order.
                let shape = "SELECT coalesce(string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum), '') AS cols FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped"
                let mine = try db.query(shape, [regclass]).first?["cols"].string ?? ""
                let theirs = try db.query(shape, [sql]).first?["cols"].string ?? ""
                guard mine == theirs else {
                    throw StepError("retention \(policy.name): archive table \(archive) does not have \(policy.table)'s columns (\(theirs) vs \(mine)); drop it to let opsctl create it, or align it")
                }
            }
        } else {
            archiveTableSQL = nil
            archiveExists = false
        }
        // The condition is configuration SQL: the planner checks it (columns, types) without running anything.
        do {
            _ = try db.readOnly(statementTimeoutMs: 5_000) { try $0.query("EXPLAIN SELECT 1 FROM \(tableSQL) WHERE \(ageCondition)", ["now"]) }
        } catch let error as PostgresError {
            throw StepError("retention \(policy.name): its condition does not plan: \(error.description)")
        }
    }

    /// Rows past the cutoff now, and the key range holding them, in one scan (which can use an index on
    /// the time column; `ORDER BY key DESC LIMIT 1` walked every newer row first). uuid has no min():
    /// its text form sorts the same way.
    func survey(_ db: PostgresConnection, cutoff: String) throws -> (count: Int, min: String?, max: String?) {
        let value = keyType == "uuid" ? "\(keySQL)::text" : keySQL
        let r = try db.query("SELECT count(*) AS n, min(\(value))::text AS lo, max(\(value))::text AS hi FROM \(tableSQL) WHERE \(ageCondition)",
                             [cutoff]).first
        return (r?["n"].int ?? 0, r?["lo"].string, r?["hi"].string)
    }

    /// The key `rows` keys above `from` (nil: fewer are left up to `max`): the exclusive end of the next range.
    func rangeEnd(_ db: PostgresConnection, from: String, max: String, rows: Int) throws -> String? {
        try db.query("SELECT \(keySQL)::text AS k FROM \(tableSQL) WHERE \(keySQL) >= $1 AND \(keySQL) <= $2 ORDER BY \(keySQL) OFFSET $3 LIMIT 1",
                     [from, max, rows]).first?["k"].string
    }

    /// The batch statement over `$2 <= key < $3` (or `<= $3` for the last range). Archiving to a table
    /// is part of the same statement; to a file, the deleted rows come back as JSON.
    func deleteSQL(last: Bool) -> String {
        let range = "\(keySQL) >= $2 AND \(keySQL) \(last ? "<=" : "<") $3"
        let delete = "DELETE FROM \(tableSQL) AS r WHERE \(range) AND \(ageCondition)"
        switch policy.archive {
        case .table?: return "WITH d AS (\(delete) RETURNING r.*) INSERT INTO \(archiveTableSQL!) SELECT * FROM d"
        case .file?: return delete + " RETURNING row_to_json(r)::text AS row"
        case nil: return delete
        }
    }
}
