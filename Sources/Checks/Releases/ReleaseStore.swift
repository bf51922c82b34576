import Foundation
import Postgres

/// One row of `opsctl.releases`: which release ran in an environment from when, at which schema
/// version, and whether verify passed for it. A rollback adds a row too (action `rollback`), so the
/// newest row is always what runs now.
public struct ReleaseEntry: Sendable, Codable, Equatable {
    public var id: Int
    public var environment: String
    public var release: String
    /// `deploy` (recorded by `opsctl deploy record`) or `rollback` (recorded by `opsctl rollback`).
    public var action: String
    /// Highest applied migration version when the release was recorded (nil: no migration history).
    public var schemaVersion: Int?
    /// ok, warn, fail, error, or unknown (no verify run after the previous release).
    public var verify: String
    public var verifyRunID: String?
    public var recordedAt: Date
    public var recordedBy: String
    public var runID: String?

    /// verify passed: ok, or warnings only (exit 0 without --strict).
    public var verifyPassed: Bool { verify == "ok" || verify == "warn" }

    enum CodingKeys: String, CodingKey {
        case id, environment, release, action, verify
        case schemaVersion = "schema_version", verifyRunID = "verify_run_id", recordedAt = "recorded_at"
        case recordedBy = "recorded_by", runID = "run_id"
    }

    /// "r1 (deployed 2026-11-29T21:00:00Z, schema 7, verify ok)".
    public var summary: String {
        let at = ISO8601DateFormatter().string(from: recordedAt)
        let verb = action == "rollback" ? "rolled back to" : "deployed"
        return "\(release) (\(verb) \(at), schema \(schemaVersion.map(String.init) ?? "none"), verify \(verify))"
    }
}

/// The releases table in the journal's schema, created the way the journal creates its tables (on first
/// write, serialised by an advisory lock); later columns are added with ADD COLUMN IF NOT EXISTS.
public struct ReleaseStore {
    public let db: PostgresConnection

    public init(_ db: PostgresConnection) { self.db = db }

    static let schema = """
        CREATE TABLE IF NOT EXISTS opsctl.releases (
            id             bigserial PRIMARY KEY,
            environment    text NOT NULL,
            release        text NOT NULL,
            action         text NOT NULL DEFAULT 'deploy' CHECK (action IN ('deploy', 'rollback')),
            schema_version bigint,
            verify         text NOT NULL DEFAULT 'unknown',
            verify_run_id  text,
            recorded_at    timestamptz NOT NULL DEFAULT now(),
            recorded_by    text NOT NULL,
            run_id         text
        );
        CREATE INDEX IF NOT EXISTS releases_environment ON opsctl.releases (environment, id DESC);
        """

    /// The schema under the lock every creator of it holds, the table under its own (OpsctlSchema).
    public func ensureSchema() throws {
        try OpsctlSchema.create(db, Self.schema, tables: "releases")
    }

    /// False until the first `opsctl deploy record` (reads never create the table: a dry run changes nothing).
    public func exists() throws -> Bool {
        try db.query("SELECT to_regclass('opsctl.releases') IS NOT NULL AS present").first?["present"].bool ?? false
    }

    /// Newest first.
    public func list(environment: String, limit: Int = 1000) throws -> [ReleaseEntry] {
        guard try exists() else { return [] }
        return try db.query("""
            SELECT id, environment, release, action, schema_version, verify, verify_run_id, recorded_at, recorded_by, run_id
              FROM opsctl.releases WHERE environment = $1 ORDER BY id DESC LIMIT $2
            """, [environment, limit]).rows.map { r in
            ReleaseEntry(id: r["id"].int ?? 0, environment: r["environment"].string ?? "", release: r["release"].string ?? "",
                         action: r["action"].string ?? "deploy", schemaVersion: r["schema_version"].int,
                         verify: r["verify"].string ?? "unknown", verifyRunID: r["verify_run_id"].string,
                         recordedAt: r["recorded_at"].date ?? Date(timeIntervalSince1970: 0),
                         recordedBy: r["recorded_by"].string ?? "", runID: r["run_id"].string)
        }
    }

    @discardableResult
    public func insert(environment: String, release: String, action: String, schemaVersion: Int?, verify: String,
                       verifyRunID: String?, recordedBy: String, runID: String?) throws -> Int {
        try ensureSchema()
        return try db.query("""
            INSERT INTO opsctl.releases (environment, release, action, schema_version, verify, verify_run_id, recorded_by, run_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
            """, [environment, release, action, schemaVersion, verify, verifyRunID, recordedBy, runID]).first?["id"].int ?? 0
    }

    /// The schema version the migration history says the database is at (nil: no history table).
    public func schemaVersion(table: String) throws -> Int? {
        guard try db.query("SELECT to_regclass($1) IS NOT NULL AS present", [quoteQualifiedName(table)]).first?["present"].bool == true
        else { return nil }
        return try db.query("SELECT max(version)::bigint AS v FROM \(quoteQualifiedName(table)) WHERE status = 'applied'").first?["v"].int ?? 0
    }

    static var timestamp: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }

    /// The outcome of the newest finished `verify` run of the environment recorded in the journal after
    /// `since` (the previous release): an older verify was about another release.
    public func latestVerify(environment: String, since: Date?) throws -> (status: String, runID: String)? {
        guard try db.query("SELECT to_regclass('opsctl.runs') IS NOT NULL AS present").first?["present"].bool == true else { return nil }
        let row = try db.query("""
            SELECT run_id, status FROM opsctl.runs
             WHERE runbook = 'verify' AND environment = $1 AND NOT dry_run AND finished_at IS NOT NULL
               AND status IN ('ok', 'warn', 'fail', 'error') AND ($2::timestamptz IS NULL OR started_at > $2::timestamptz)
             ORDER BY started_at DESC LIMIT 1
            """, [environment, since.map { Self.timestamp.string(from: $0) }]).first
        guard let status = row?["status"].string, let id = row?["run_id"].string else { return nil }
        return (status, id)
    }
}

/// Which release `rollback --mode full` goes back to, and why — the same answer for the dry run, the
/// real run and `rollback --status`.
public struct RollbackTarget: Sendable, Equatable {
    public var target: ReleaseEntry
    public var current: ReleaseEntry
    public var reason: String

    /// `release` nil: the newest release before the current one whose verify passed (another release
    /// than the current one: rolling back to what runs now changes nothing).
    public static func choose(_ history: [ReleaseEntry], release: String?, environment: String) throws -> RollbackTarget {
        guard let current = history.first else {
            throw StepError("no release is recorded for '\(environment)': record each deploy with 'opsctl deploy record --release ID --env \(environment)' (after 'opsctl verify'), or roll back to a version with --to N",
                            details: ["environment": .string(environment)])
        }
        let older = history.dropFirst()
        if let release {
            if release == current.release {
                throw StepError("release '\(release)' is what runs in '\(environment)' now (\(current.summary)): name an earlier one ('opsctl releases --env \(environment)')",
                                details: ["release": .string(release)])
            }
            guard let chosen = older.first(where: { $0.release == release }) else {
                throw StepError("release '\(release)' is not an earlier release of '\(environment)': 'opsctl releases --env \(environment)' lists them",
                                details: ["release": .string(release)])
            }
            return RollbackTarget(target: chosen, current: current,
                                  reason: "\(chosen.summary) was asked for with --release; current is \(current.summary)")
        }
        guard let good = older.first(where: { $0.verifyPassed && $0.release != current.release }) else {
            let seen = older.isEmpty ? "it is the only release recorded" : "none of the \(older.count) earlier release(s) passed verify"
            throw StepError("no release to roll back to in '\(environment)': current is \(current.summary) and \(seen); record a verified release with 'opsctl deploy record --verify', or roll back to a version with --to N",
                            details: ["current": .string(current.release)])
        }
        let skipped = older.prefix { $0.id != good.id }.filter { $0.release != current.release }
        let why = skipped.isEmpty ? "" : "; skipped \(skipped.map { "\($0.release) (verify \($0.verify))" }.joined(separator: ", "))"
        return RollbackTarget(target: good, current: current,
                              reason: "\(good.summary) is the last release before \(current.release) whose verify passed (current is \(current.summary)\(why))")
    }
}

