import Foundation
import Postgres

/// What `postgres.maintenance` checks before running (and all its dry-run does): the objects exist and
/// are of the right kind, the session may maintain them, and Postgres accepts the statement's form
/// (no CONCURRENTLY where the server refuses it). Throws `StepError` with the real run's failure.
struct MaintenanceChecks {
    let db: PostgresConnection
    let step: PostgresMaintenance

    func check() throws {
        let version = db.serverVersion.number
        for table in step.tables {
            guard let r = try db.query("""
                SELECT c.relkind::text AS kind, pg_has_role(current_user, c.relowner, 'USAGE') AS owns,
                       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS super
                  FROM pg_class c WHERE c.oid = to_regclass($1)
                """, [quoteQualifiedName(table)]).first else {
                throw StepError("\(step.action.rawValue): table \(table) does not exist")
            }
            let kind = r["kind"].string ?? ""
            guard ["r", "p", "m"].contains(kind) else { throw StepError("\(step.action.rawValue): \(table) is not a table (relkind \(kind))") }
            if r["owns"].bool != true && r["super"].bool != true {
                // VACUUM would only warn and skip it; the others fail with 42501.
                throw StepError("\(step.action.rawValue): the connecting role does not own \(table) (must be owner or superuser) [SQLSTATE 42501]")
            }
            if kind == "p" && step.concurrently {
                if step.action == .createIndex {
                    throw StepError("cannot create an index on partitioned table \(table) concurrently [SQLSTATE 0A000]: create it on each partition concurrently, then on the parent ONLY, and attach them (or set concurrently: false)")
                }
                if step.action == .reindex && version < 140000 {
                    throw StepError("REINDEX CONCURRENTLY of partitioned table \(table) needs PostgreSQL 14 or later (server \(db.serverVersion.text)) [SQLSTATE 0A000]")
                }
            }
        }
        if step.action == .reindex && step.concurrently && version < 120000 {
            throw StepError("REINDEX CONCURRENTLY needs PostgreSQL 12 or later (server \(db.serverVersion.text))")
        }
        guard let index = step.index else { return }
        let name = quoteQualifiedName(step.qualified(index))
        let found = try db.query("""
            SELECT c.relkind::text AS kind, i.indisvalid AS valid, i.indisprimary OR i.indisunique AS constrains,
                   EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid) AS backs_constraint
              FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid WHERE c.oid = to_regclass($1)
            """, [name]).first
        switch step.action {
        case .createIndex:
            if let found {
                let invalid = found["valid"].bool == false
                throw StepError("index \(index) already exists\(invalid ? " and is INVALID (left by a failed concurrent build): drop it first (action: drop_index)" : "") [SQLSTATE 42P07]")
            }
            for column in step.columns {
                guard try db.query("SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2 AND attnum > 0 AND NOT attisdropped",
                                   [quoteQualifiedName(step.tables[0]), column]).first != nil else {
                    throw StepError("column \(column) of \(step.tables[0]) does not exist [SQLSTATE 42703]")
                }
            }
        case .reindex, .dropIndex:
            guard let found else { throw StepError("index \(index) does not exist [SQLSTATE 42704]") }
            let kind = found["kind"].string ?? ""
            guard kind == "i" || kind == "I" else { throw StepError("\(index) is not an index") }
            if kind == "I" && step.concurrently && (step.action == .dropIndex || version < 140000) {
                throw StepError("cannot \(step.action == .dropIndex ? "drop" : "reindex") partitioned index \(index) concurrently [SQLSTATE 0A000]: set concurrently: false or work on the partitions' indexes")
            }
            if step.action == .dropIndex && found["backs_constraint"].bool == true {
                throw StepError("index \(index) backs a constraint (primary key, unique or exclusion): drop the constraint with ALTER TABLE instead [SQLSTATE 2BP01]")
            }
        default: break
        }
    }
}
