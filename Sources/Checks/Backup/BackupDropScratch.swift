import Foundation
import Postgres

/// Drops the restored copy a `backup.verify` with `keep: true` left for the steps after it (the profile's
/// invariants, `migrations.verify`). Run it as an `always:` step so the copy goes even when a check fails.
public struct BackupDropScratch: StepKind {
    public static let name = "backup.drop_scratch"
    public static let summary = "Drop the scratch database a backup.verify kept (keep: true); only opsctl_verify_* names"
    public static let parameters: [ParameterSpec] = [
        .init("scratch", .string, default: "", "the scratch database: ${steps.ID.details.scratch_database:-} (empty: nothing to drop)"),
    ]
    /// It drops only opsctl's own scratch copies, never the environment's database.
    public static let mutates = false
    public static let example = """
        - id: drop-copy
          kind: backup.drop_scratch
          always: true
          with: { scratch: opsctl_verify_0a1b2c3d }   # in a runbook: "${steps.verify.details.scratch_database:-}"
        """

    let scratch: String

    public init(_ p: StepParameters) throws {
        scratch = try p.string("scratch", default: "")
        guard scratch.isEmpty || scratch.hasPrefix(BackupVerify.scratchPrefix) else {
            throw StepError("step '\(p.stepID)': '\(scratch.prefix(80))' is not a scratch database of backup.verify (\(BackupVerify.scratchPrefix)*): refusing to drop it")
        }
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let admin = try context.connect()
        defer { admin.close() }
        var details: [String: JSONValue] = [:]
        if !scratch.isEmpty {
            details["scratch_database"] = .string(scratch)
            do {
                _ = try admin.execute("DROP DATABASE IF EXISTS \(quoteIdentifier(scratch)) WITH (FORCE)")
            } catch let error as PostgresError {
                throw StepError("could not drop \(scratch): \(error.description); drop it by hand (DROP DATABASE \(scratch) WITH (FORCE))",
                                details: details)
            }
            KeptScratch.shared.release(scratch)
        }
        // Copies of verifies killed earlier (kill -9 runs no cleanup) go too, or are named.
        let leftovers = BackupVerify.dropAbandoned(admin)
        if !leftovers.dropped.isEmpty { details["dropped_leftovers"] = .array(leftovers.dropped.map(JSONValue.string)) }
        if !leftovers.failed.isEmpty {
            details["leftovers"] = .array(leftovers.failed.map(JSONValue.string))
            return .init(.warn, "could not drop leftover scratch database(s) \(leftovers.failed.joined(separator: ", ")): drop them by hand",
                         details: details)
        }
        let extra = leftovers.dropped.isEmpty ? "" : "; \(leftovers.dropped.count) leftover(s) of killed verifies dropped"
        return .ok((scratch.isEmpty ? "no scratch database to drop" : "\(scratch) dropped") + extra, details: details)
    }
}

/// Scratch databases kept past their verify step, each with the session whose application_name tells
/// other verifies it is in use. Process-wide: the steps of one run share the process.
final class KeptScratch: @unchecked Sendable {
    static let shared = KeptScratch()
    private let lock = NSLock()
    private var held: [String: PostgresConnection] = [:]

    func hold(_ name: String, _ connection: PostgresConnection) { lock.withLock { held[name] = connection } }
    func holds(_ name: String) -> Bool { lock.withLock { held[name] != nil } }

    /// Closes the connection: the copy is no longer marked in use.
    func release(_ name: String) {
        let connection = lock.withLock { held.removeValue(forKey: name) }
        connection?.close()
    }
}
