import Foundation
import Postgres

/// Where a retention run stands, one row per policy in `opsctl.retention_progress`. Each batch updates it
/// in the batch's own transaction, so the row and the table always agree: a run killed at any instant
/// (kill -9 included) resumes at the first key range not yet committed, with the same cutoff.
struct RetentionCheckpoint {
    var policy: String
    var cutoff: String
    /// Inclusive lower bound of the next batch's key range (text: the key's own type reads it back).
    var nextKey: String
    /// Inclusive upper bound: the largest key matching when the run started.
    var maxKey: String
    var total: Int
    var deleted = 0
    var batches = 0
    /// The archive file being written (`.partial` until the policy completes) and its committed length.
    var archivePath: String?
    var archiveBytes = 0
    /// Set by the last batch's transaction: nothing of this run left to delete.
    var exhausted = false
    var startedAt: String = ""

    static let schema = """
        CREATE TABLE IF NOT EXISTS opsctl.retention_progress (
            policy text PRIMARY KEY,
            table_name text NOT NULL,
            cutoff timestamptz NOT NULL,
            next_key text NOT NULL,
            max_key text NOT NULL,
            total bigint NOT NULL,
            deleted bigint NOT NULL DEFAULT 0,
            batches int NOT NULL DEFAULT 0,
            archive_path text,
            archive_bytes bigint NOT NULL DEFAULT 0,
            exhausted boolean NOT NULL DEFAULT false,
            run_id text,
            started_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz
        );
        """

    /// The schema under the lock every creator of it holds, the table under its own (OpsctlSchema).
    static func ensureSchema(_ db: PostgresConnection) throws {
        try OpsctlSchema.create(db, schema, tables: "retention")
    }

    /// The unfinished run of this policy, if one was interrupted. Nil too when the table does not exist yet
    /// (a dry-run never creates it).
    static func unfinished(_ db: PostgresConnection, policy: String) throws -> RetentionCheckpoint? {
        guard try db.query("SELECT to_regclass('opsctl.retention_progress') IS NOT NULL AS present").first?["present"].bool == true,
              let r = try db.query("""
                  SELECT cutoff::text AS cutoff, next_key, max_key, total, deleted, batches, archive_path, archive_bytes,
                         exhausted, started_at::text AS started_at
                    FROM opsctl.retention_progress WHERE policy = $1 AND finished_at IS NULL
                  """, [policy]).first else { return nil }
        var c = RetentionCheckpoint(policy: policy, cutoff: r["cutoff"].string ?? "", nextKey: r["next_key"].string ?? "",
                                    maxKey: r["max_key"].string ?? "", total: r["total"].int ?? 0)
        c.deleted = r["deleted"].int ?? 0
        c.batches = r["batches"].int ?? 0
        c.archivePath = r["archive_path"].string
        c.archiveBytes = r["archive_bytes"].int ?? 0
        c.exhausted = r["exhausted"].bool ?? false
        c.startedAt = r["started_at"].string ?? ""
        return c
    }

    /// Records a new run of the policy (replacing the finished row of the last one).
    func start(_ db: PostgresConnection, table: String, runID: String?) throws {
        try db.query("""
            INSERT INTO opsctl.retention_progress (policy, table_name, cutoff, next_key, max_key, total, archive_path, run_id)
            VALUES ($1, $2, $3::timestamptz, $4, $5, $6, $7, $8)
            ON CONFLICT (policy) DO UPDATE SET table_name = $2, cutoff = $3::timestamptz, next_key = $4, max_key = $5, total = $6,
                deleted = 0, batches = 0, archive_path = $7, archive_bytes = 0, exhausted = false, run_id = $8,
                started_at = now(), updated_at = now(), finished_at = NULL
            """, [policy, table, cutoff, nextKey, maxKey, total, archivePath, runID])
    }

    /// Inside the batch's transaction: what the batch did, committed with it.
    func record(_ db: PostgresConnection) throws {
        try db.query("""
            UPDATE opsctl.retention_progress SET next_key = $2, deleted = $3, batches = $4, archive_bytes = $5, exhausted = $6,
                   updated_at = now() WHERE policy = $1
            """, [policy, nextKey, deleted, batches, archiveBytes, exhausted])
    }

    func finish(_ db: PostgresConnection) throws {
        try db.query("UPDATE opsctl.retention_progress SET finished_at = now(), updated_at = now() WHERE policy = $1", [policy])
    }
}
