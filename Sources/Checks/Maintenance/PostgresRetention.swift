import Foundation
import Postgres
import Support

/// Deletes rows past their retention, table by table, in short batches over key ranges (never one
/// unbounded DELETE): archived first where the policy says so, checkpointed so a killed run resumes.
public struct PostgresRetention: StepKind {
    public static let name = "postgres.retention"
    public static let summary = "Delete rows past their retention (service.retention) in short key-range batches with bounded lock time; archive first; resumable"
    public static let parameters: [ParameterSpec] = [
        .init("policies", .list, "policies to apply instead of service.retention: [{table, time_column, older_than, where, key, archive, batch}]"),
        .init("only", .list, "names of the policies to run (default: all)"),
        .init("as_of", .string, "compute cutoffs as of this timestamp instead of now (reproducible runs and dry-runs)"),
        .init("lock_retries", .int, default: 10, "batches in a row that may hit lock_timeout (each retried smaller, after a wait) before the step fails"),
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
    ]
    public static let mutates = true
    public static let example = """
        - id: retention
          kind: postgres.retention
          with:
            policies:
              - table: request_log
                time_column: created_at
                older_than: 90d
                batch: { target: 200ms, max_rows: 10000, pause: 50ms, lock_timeout: 100ms }
        """

    let inline: [RetentionPolicy]?
    let only: [String]
    let asOf: String?
    let lockRetries: Int
    let variable: String?

    public init(_ p: StepParameters) throws {
        if let list = p["policies"] {
            guard let items = list.array else { throw StepError("step '\(p.stepID)': policies must be a list of {table, time_column, older_than, ...}") }
            inline = try items.enumerated().map { try RetentionPolicy(json: $1, place: "step '\(p.stepID)': policies[\($0)]") }
        } else {
            inline = nil
        }
        only = try p.stringList("only").filter { !$0.isEmpty }
        asOf = try p.nonEmptyString("as_of")
        lockRetries = try p.int("lock_retries", default: 10)
        variable = try p.optionalString("database_url_env")
    }

    func policies(_ context: StepContext) throws -> [RetentionPolicy] {
        let all = inline ?? context.service.retention
        guard !all.isEmpty else {
            throw StepError("no retention policies: declare service.retention in opsctl.yaml (or the profile), e.g. [{table: request_log, time_column: created_at, older_than: 90d}]")
        }
        for name in only where !all.contains(where: { $0.name == name }) {
            throw StepError("no retention policy '\(name)'\(closest(to: name, in: all.map(\.name)).map { ", did you mean '\($0)'?" } ?? ""); policies: \(all.map(\.name).joined(separator: ", "))")
        }
        return only.isEmpty ? all : all.filter { only.contains($0.name) }
    }

    public func plan(_ context: StepContext) throws -> String {
        let policies = try policies(context)
        let db = try context.connect(variable: variable)
        defer { db.close() }
        var lines: [String] = []
        var counts: [String] = []
        do {
            for policy in policies {
                let table = try RetentionTable(policy, db)
                let b = policy.batch
                let pace = "batches of up to \(b.maxRows) keys of \(table.key) aiming at \(DurationText.format(milliseconds: b.target * 1000)) each (lock_timeout \(DurationText.format(milliseconds: b.lockTimeout * 1000)), pause \(DurationText.format(milliseconds: b.pause * 1000)))"
                var archive = ""
                switch policy.archive {
                case let .table(t)?: archive = table.archiveExists ? ", archiving into \(t)" : ", archiving into \(t) (created LIKE \(policy.table))"
                case let .file(f)?:
                    let dir = URL(fileURLWithPath: f.hasPrefix("/") ? f : (context.baseDirectory ?? FileManager.default.currentDirectoryPath) + "/" + f).deletingLastPathComponent().path
                    guard FileManager.default.isWritableFile(atPath: dir) else {
                        throw StepError("retention \(policy.name): the archive directory \(dir) does not exist or is not writable")
                    }
                    archive = ", archiving to \(f) (JSON lines)"
                case nil: break
                }
                if let c = try RetentionCheckpoint.unfinished(db, policy: policy.name) {
                    let left = try db.readOnly(statementTimeoutMs: 600_000) { tx in
                        try tx.query("SELECT count(*) AS n FROM \(table.tableSQL) WHERE \(table.keySQL) >= $2 AND \(table.keySQL) <= $3 AND \(table.ageCondition)",
                                     [c.cutoff, c.nextKey, c.maxKey]).first?["n"].int ?? 0
                    }
                    counts.append("\(policy.name): \(left) rows (resuming)")
                    lines.append("\(policy.name): would resume the run started \(c.startedAt) (cutoff \(c.cutoff)): \(c.deleted) of \(c.total) deleted in \(c.batches) batches, \(left) left from \(table.key) \(c.nextKey), in \(pace)\(archive)")
                    continue
                }
                let survey = try db.readOnly(statementTimeoutMs: 600_000) { tx -> (Int, String?, String?, String) in
                    let cutoff = try tx.query("SELECT (coalesce($1::timestamptz, now()) - make_interval(secs => $2))::text AS c",
                                              [asOf, policy.olderThanSeconds]).first?["c"].string ?? ""
                    let s = try table.survey(tx, cutoff: cutoff)
                    return (s.count, s.min, s.max, cutoff)
                }
                counts.append("\(policy.name): \(survey.0) rows")
                let condition = policy.condition.map { " where \($0)" } ?? ""
                if survey.0 == 0 {
                    lines.append("\(policy.name): nothing to delete (\(policy.timeColumn) older than \(policy.olderThan), before \(survey.3)\(condition))")
                } else {
                    lines.append("\(policy.name): would delete \(survey.0) rows of \(policy.table) with \(policy.timeColumn) older than \(policy.olderThan) (before \(survey.3))\(condition), \(table.key) \(survey.1 ?? "?")..\(survey.2 ?? "?"), in \(pace)\(archive)")
                }
            }
        } catch let error as PostgresError {
            throw StepError(error.description, details: ["sqlstate": error.sqlState.map(JSONValue.string) ?? .null])
        }
        // The report shows the first line; the details hold every policy's plan.
        return (["would delete " + counts.joined(separator: ", ")] + lines).joined(separator: "\n")
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let policies = try policies(context)
        let db = try context.connect(variable: variable)
        defer { db.close() }
        var summaries: [RetentionRun.Summary] = []
        var failures: [String] = []
        do {
            try RetentionCheckpoint.ensureSchema(db)
            for policy in policies {
                // Two runs of one policy would race for the same ranges and checkpoint.
                guard try db.tryAdvisoryLock("opsctl:retention:\(policy.name)") else {
                    failures.append("retention \(policy.name): another opsctl run is applying it (advisory lock opsctl:retention:\(policy.name))")
                    continue
                }
                defer { _ = try? db.advisoryUnlock("opsctl:retention:\(policy.name)") }
                do {
                    let table = try RetentionTable(policy, db)
                    summaries.append(try RetentionRun(table: table, db: db, context: context, asOf: asOf, maxLockRetries: lockRetries).run())
                } catch let error as RetentionRun.LockedOut {
                    failures.append(error.message)
                }
            }
        } catch let error as PostgresError {
            throw StepError(error.description, details: ["sqlstate": error.sqlState.map(JSONValue.string) ?? .null])
        }
        let deleted = summaries.reduce(0) { $0 + $1.deleted }
        let longest = summaries.map(\.longestBatch).max() ?? 0
        let seconds = summaries.reduce(0) { $0 + $1.seconds }
        let parts = summaries.map { s -> String in
            if s.deleted == 0 && s.batches == 0 { return "\(s.name): nothing to delete" }
            let archived = s.archive.map { ", archived to \($0)" } ?? ""
            return "\(s.name): \(s.deleted) rows in \(s.batches) batches\(archived), longest \(Int(s.longestBatch * 1000)) ms\(s.resumed ? " (resumed)" : "")"
        }
        let details: [String: JSONValue] = ["policies": .array(summaries.map(\.json)), "failures": .array(failures.map(JSONValue.string))]
        let metrics = [Metric(name: "rows_deleted", value: Double(deleted), unit: "count"),
                       Metric(name: "longest_batch_ms", value: (longest * 1000).rounded(), unit: "ms"),
                       Metric(name: "rows_per_second", value: seconds > 0 ? (Double(deleted) / seconds).rounded() : 0, unit: "count")]
        if !failures.isEmpty {
            return .init(.fail, (failures + parts).joined(separator: "; "), details: details, metrics: metrics)
        }
        return .ok(parts.joined(separator: "; "), details: details, metrics: metrics)
    }
}
