import Foundation
import Postgres
import Support

/// Deletes one policy's old rows in short transactions over key ranges. Each range is sized so its
/// transaction (the time it holds row locks) approaches the policy's target; a batch that cannot get its
/// locks within lock_timeout rolls back, waits and retries with a smaller range. Archive rows and the
/// checkpoint are written in the batch's own transaction, so nothing is lost or archived twice.
struct RetentionRun {
    struct Summary {
        var name: String
        var deleted = 0
        var batches = 0
        var total = 0
        var longestBatch = 0.0
        var lockRetries = 0
        var resumed = false
        var archive: String?
        var cutoff = ""
        var seconds = 0.0

        var json: JSONValue {
            var o: [String: JSONValue] = ["policy": .string(name), "deleted": .int(deleted), "batches": .int(batches),
                                          "matched": .int(total), "longest_batch_ms": .int(Int(longestBatch * 1000)),
                                          "lock_retries": .int(lockRetries), "resumed": .bool(resumed), "cutoff": .string(cutoff)]
            if let archive { o["archive"] = .string(archive) }
            return .object(o)
        }
    }

    /// A batch kept hitting lock_timeout: the step fails (nothing half-done: every committed batch is checkpointed).
    struct LockedOut: Error { let message: String }

    let table: RetentionTable
    let db: PostgresConnection
    let context: StepContext
    let asOf: String?
    let maxLockRetries: Int
    var policy: RetentionPolicy { table.policy }

    func run() throws -> Summary {
        var summary = Summary(name: policy.name)
        var checkpoint: RetentionCheckpoint
        if let unfinished = try RetentionCheckpoint.unfinished(db, policy: policy.name) {
            checkpoint = unfinished
            summary.resumed = true
        } else {
            let cutoff = try db.query("SELECT (coalesce($1::timestamptz, now()) - make_interval(secs => $2))::text AS c",
                                      [asOf, policy.olderThanSeconds]).first?["c"].string ?? ""
            let survey = try table.survey(db, cutoff: cutoff)
            checkpoint = RetentionCheckpoint(policy: policy.name, cutoff: cutoff, nextKey: survey.min ?? "", maxKey: survey.max ?? "",
                                             total: survey.count)
            checkpoint.exhausted = survey.count == 0
            if case let .file(path)? = policy.archive, survey.count > 0 { checkpoint.archivePath = try archivePath(path) }
            if let archive = table.archiveTableSQL, !table.archiveExists, survey.count > 0 {
                try db.execute("CREATE TABLE IF NOT EXISTS \(archive) (LIKE \(table.tableSQL))")
            }
            try checkpoint.start(db, table: policy.table, runID: context.runID)
        }
        summary.cutoff = checkpoint.cutoff
        summary.total = checkpoint.total
        let started = Date()
        let doneBefore = checkpoint.deleted
        // Killed between the archive's rename and the checkpoint's finish: the file is complete already.
        let renamed = checkpoint.archivePath.map { FileManager.default.fileExists(atPath: $0) && !FileManager.default.fileExists(atPath: $0 + ".partial") } ?? false
        var file: ArchiveFile?
        if let path = checkpoint.archivePath, !renamed { file = try ArchiveFile(final: path, committedBytes: checkpoint.archiveBytes) }
        summary.archive = checkpoint.archivePath
        if case let .table(t)? = policy.archive { summary.archive = t }
        var rows = min(1_000, policy.batch.maxRows)
        var retries = 0
        var lastProgress = Date.distantPast
        while !checkpoint.exhausted {
            if context.cancellation.isCancelled {
                throw StepError("retention \(policy.name): interrupted after \(checkpoint.deleted) of \(checkpoint.total) rows; the next run resumes from \(table.key) \(checkpoint.nextKey)")
            }
            // Integer keys: the range is arithmetic (no index walk to find its end); other keys: the next `rows` keys.
            let end: String?
            if table.integerKey, let from = Int(checkpoint.nextKey), let last = Int(checkpoint.maxKey) {
                let (next, overflow) = from.addingReportingOverflow(rows)
                end = overflow || next > last ? nil : String(next)
            } else {
                end = try table.rangeEnd(db, from: checkpoint.nextKey, max: checkpoint.maxKey, rows: rows)
            }
            var next = checkpoint
            next.nextKey = end ?? checkpoint.maxKey
            next.exhausted = end == nil
            next.batches += 1
            let began = Date()
            do {
                let statementMs = Int(max(policy.batch.target * 50, 30) * 1000)
                try db.transaction(statementTimeoutMs: statementMs, lockTimeoutMs: max(1, Int(policy.batch.lockTimeout * 1000))) { tx in
                    let result = try tx.query(table.deleteSQL(last: end == nil), [checkpoint.cutoff, checkpoint.nextKey, next.nextKey])
                    next.deleted += result.affectedRows
                    if file != nil {
                        next.archiveBytes = try file!.append(result.rows.compactMap { $0["row"].string })
                    }
                    try next.record(tx)
                }
            } catch let error as PostgresError where error.isLockTimeout || error.sqlState == "57014" && !context.cancellation.isCancelled {
                // Rolled back: the file loses what this batch wrote, the range shrinks, and the writers get a breather.
                try file?.truncate()
                retries += 1
                summary.lockRetries += 1
                guard retries <= maxLockRetries else {
                    throw LockedOut(message: "retention \(policy.name): \(retries) batches in a row could not \(error.isLockTimeout ? "get their locks within \(DurationText.format(milliseconds: policy.batch.lockTimeout * 1000))" : "finish within the statement timeout") on \(policy.table) (another session holds a conflicting lock: see postgres.lock_waits); \(checkpoint.deleted) of \(checkpoint.total) rows deleted, the next run resumes there")
                }
                rows = max(1, rows / 2)
                Thread.sleep(forTimeInterval: policy.batch.pause + policy.batch.lockTimeout * Double(retries))
                continue
            } catch {
                try? file?.truncate()
                throw error
            }
            let elapsed = Date().timeIntervalSince(began)
            file?.commit(next.archiveBytes)
            retries = 0
            summary.longestBatch = max(summary.longestBatch, elapsed)
            checkpoint = next
            // Toward the target, at most doubling or halving per batch: one slow batch (a checkpoint, a vacuum) must not collapse the size.
            let factor = min(2, max(0.5, policy.batch.target / max(elapsed, 0.001)))
            rows = min(policy.batch.maxRows, max(1, Int(Double(rows) * factor)))
            if let progress = context.progress, Date().timeIntervalSince(lastProgress) >= 1 {
                lastProgress = Date()
                let rate = Double(checkpoint.deleted - doneBefore) / max(Date().timeIntervalSince(started), 0.001)
                let left = max(0, checkpoint.total - checkpoint.deleted)
                let eta = rate > 0 ? DurationText.format(milliseconds: Double(left) / rate * 1000) : "?"
                let percent = checkpoint.total > 0 ? checkpoint.deleted * 100 / checkpoint.total : 100
                progress("retention \(policy.name): \(checkpoint.deleted)/\(checkpoint.total) rows (\(percent)%) \(Int(rate)) rows/s, ETA \(eta)")
            }
            if !checkpoint.exhausted && policy.batch.pause > 0 { Thread.sleep(forTimeInterval: policy.batch.pause) }
        }
        try file?.complete()
        try checkpoint.finish(db)
        summary.deleted = checkpoint.deleted
        summary.batches = checkpoint.batches
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }

    /// The archive file's path: relative to opsctl.yaml's directory, `{date}` replaced by the run's start.
    func archivePath(_ template: String) throws -> String {
        let name = template.replacingOccurrences(of: "{date}", with: UTCStamp.compact())
        let path = name.hasPrefix("/") ? name : (context.baseDirectory ?? FileManager.default.currentDirectoryPath) + "/" + name
        if FileManager.default.fileExists(atPath: path) {
            throw StepError("retention \(policy.name): archive file \(path) already exists; put {date} in archive.file to keep one file per run")
        }
        return path
    }
}

/// JSON lines appended to `<final>.partial`; the checkpoint holds the committed length, so a batch
/// rolled back (or a run killed before its commit) leaves nothing behind after `truncate`. Renamed to
/// the final name when the policy completes: a reader never sees a half-written archive under that name.
struct ArchiveFile {
    let final: String
    let partial: String
    private(set) var committed: Int
    private var handle: FileHandle

    init(final: String, committedBytes: Int) throws {
        self.final = final
        partial = final + ".partial"
        committed = committedBytes
        if !FileManager.default.fileExists(atPath: partial) {
            guard FileManager.default.createFile(atPath: partial, contents: nil) else {
                throw StepError("cannot create the archive file \(partial)")
            }
        }
        guard let h = FileHandle(forUpdatingAtPath: partial) else { throw StepError("cannot open the archive file \(partial)") }
        handle = h
        // What a killed run wrote after its last commit is not archived: those rows are still in the table.
        try handle.truncate(atOffset: UInt64(committedBytes))
    }

    /// Appends the rows and syncs them to disk before the batch commits; returns the new length.
    mutating func append(_ lines: [String]) throws -> Int {
        guard !lines.isEmpty else { return committed }
        try handle.seek(toOffset: UInt64(committed))
        try handle.write(contentsOf: Data((lines.joined(separator: "\n") + "\n").utf8))
        try handle.synchronize()
        return Int(try handle.offset())
    }

    /// After a rollback: back to the committed length.
    func truncate() throws { try handle.truncate(atOffset: UInt64(committed)) }

    /// After the batch's commit.
    mutating func commit(_ length: Int) { committed = length }

    func complete() throws {
        try handle.close()
        if FileManager.default.fileExists(atPath: final) { throw StepError("archive file \(final) appeared while the run wrote it") }
        try FileManager.default.moveItem(atPath: partial, toPath: final)
    }
}
