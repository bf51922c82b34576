import Foundation
import Migrations
import Support

/// Files vs history: applied, pending, failed, partial, modified, missing, out-of-order, duplicates, missing downs.
public struct MigrationsStatus: StepKind {
    public static let name = "migrations.status"
    public static let summary = "Compare migration files with the history table; fail when anything blocks apply"
    public static let parameters: [ParameterSpec] = MigrationParameters.specs + [
        .init("fail_on_pending", .bool, default: false, "fail when migrations are pending (after a deploy that should have applied them)"),
        .init("allow_out_of_order", .bool, default: false, "a pending version below the newest applied one does not block"),
    ]
    public static let mutates = false
    public static let example = """
        - id: migration-status
          kind: migrations.status
          with: { dir: examples/churn-saver/migrations }
        """

    let p: MigrationParameters
    let failOnPending: Bool

    public init(_ parameters: StepParameters) throws {
        p = try MigrationParameters(parameters)
        failOnPending = try parameters.bool("fail_on_pending", default: false)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        PhaseClock.mark("status step starts")
        defer { PhaseClock.mark("status step ends") }
        let status = try MigrationParameters.guarded { try p.migrator(context).status() }
        let versions: [JSONValue] = status.versions.map { v in
            .object(["version": .int(Int(v.version)), "name": .string(v.name), "state": .string(v.state.rawValue),
                     "file": v.file.map(JSONValue.string) ?? .null, "has_down": .bool(v.hasDown),
                     "blocks_apply": .bool(v.blocksApply), "message": .string(v.message)])
        }
        let problems: [JSONValue] = status.problems.map { .object(["rule": .string($0.rule), "file": .string($0.file), "message": .string($0.message)]) }
        let failed = status.versions.filter { $0.state == .failed }
        let metrics = [
            Metric(name: "migrations_applied", value: Double(status.applied.count), unit: "count"),
            Metric(name: "migrations_pending", value: Double(status.pending.count), unit: "count"),
            Metric(name: "schema_version", value: Double(status.current)),
        ]
        let details: [String: JSONValue] = ["versions": .array(versions), "problems": .array(problems),
                                            "current_version": .int(Int(status.current))]
        var summary = "at version \(status.current): \(status.applied.count) applied, \(status.pending.count) pending"
        if let first = status.blocking.first ?? failed.first {
            summary += "; \(first.version) \(first.state.rawValue): \(first.message)"
            if status.blocking.count + failed.count > 1 { summary += " (+\(status.blocking.count + failed.count - 1) more)" }
            return .init(.fail, summary, details: details, metrics: metrics)
        }
        if failOnPending && !status.pending.isEmpty {
            return .init(.fail, summary + ": " + status.pending.map { "\($0.version)" }.joined(separator: ", ") + " not applied", details: details, metrics: metrics)
        }
        let warnings = status.problems.map(\.description) + status.versions.filter { $0.state == .missing }.map { "\($0.version): \($0.message)" }
        if let w = warnings.first {
            return .init(.warn, summary + "; " + w + (warnings.count > 1 ? " (+\(warnings.count - 1) more)" : ""), details: details, metrics: metrics)
        }
        return .ok(summary, details: details, metrics: metrics)
    }
}
