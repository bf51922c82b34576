import Foundation
import Migrations

/// Evidence for a failed or partial migration and, when asked, marking it applied or rolled back.
public struct MigrationsRepair: StepKind {
    public static let name = "migrations.repair"
    public static let summary = "Show the evidence for a failed/partial migration (failing statement, SQLSTATE, which objects exist); optionally mark it applied or rolled back"
    public static let parameters: [ParameterSpec] = MigrationParameters.specs + [
        .init("version", .int, required: true, "the migration version to inspect"),
        .init("mark", .string, "applied or rolled_back: record the decision in the history (mutates)"),
        .init("reason", .string, "why, kept in the history's event log"),
    ]
    /// Inspecting is read-only; `mark` makes the configured step mutating (see `isMutating`).
    public static let mutates = false
    public static let example = """
        - id: evidence
          kind: migrations.repair
          with: { dir: examples/churn-saver/migrations, version: 1 }
        """

    let p: MigrationParameters
    let version: Int64
    let mark: String?
    let reason: String

    public init(_ parameters: StepParameters) throws {
        p = try MigrationParameters(parameters)
        guard let v = parameters["version"]?.int else { throw StepError("step '\(parameters.stepID)': 'version' must be a migration version number") }
        version = Int64(v)
        mark = try parameters.optionalString("mark")
        reason = try parameters.string("reason", default: "")
        if let mark, !["applied", "rolled_back"].contains(mark) {
            throw StepError("step '\(parameters.stepID)': mark must be 'applied' or 'rolled_back', got '\(mark)'")
        }
    }

    public var isMutating: Bool { mark != nil }

    /// After the checks a real run starts with: the file exists (to mark it applied), the evidence is readable.
    public func plan(_ context: StepContext) throws -> String {
        try MigrationParameters.guarded {
            let migrator = try p.migrator(context)
            if mark == "applied", try migrator.files().migration(version) == nil {
                throw MigrationError(.invalidInput, "no migration file for version \(version)")
            }
            _ = try migrator.evidence(version: version)
        }
        return "would mark version \(version) as \(mark ?? "?") in the migration history" + (reason.isEmpty ? "" : " (\(reason))")
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let migrator = try MigrationParameters.guarded { try p.migrator(context) }
        let evidence = try MigrationParameters.guarded { try migrator.evidence(version: version) }
        var details: [String: JSONValue] = ["evidence": .array(evidence.lines.map(JSONValue.string)), "version": .int(Int(version))]
        switch mark {
        case "applied":
            try MigrationParameters.guarded { try migrator.markApplied(version: version, reason: reason) }
            details["marked"] = "applied"
            return .ok("version \(version) marked applied; evidence: \(evidence.lines.first ?? "")", details: details)
        case "rolled_back":
            try MigrationParameters.guarded { try migrator.markRolledBack(version: version, reason: reason) }
            details["marked"] = "rolled_back"
            return .ok("version \(version) marked rolled back; evidence: \(evidence.lines.first ?? "")", details: details)
        default:
            let state = evidence.entry?.state.rawValue ?? "not in history"
            let needsRepair = ["failed", "partial"].contains(state)
            return .init(needsRepair ? .warn : .ok, evidence.lines.joined(separator: "; "), details: details)
        }
    }
}
