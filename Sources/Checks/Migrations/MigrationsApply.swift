import Foundation
import Migrations
import Support

/// Apply pending migrations (each in its own transaction unless it cannot be), serialised by an advisory lock.
public struct MigrationsApply: StepKind {
    public static let name = "migrations.apply"
    public static let summary = "Apply pending migrations up to a version: advisory lock, lock_timeout with retries, verify created objects"
    public static let parameters: [ParameterSpec] = MigrationParameters.specs + MigrationParameters.runSpecs + [
        .init("to", .int, "apply up to this version (default: all pending)"),
        .init("allow_out_of_order", .bool, default: false, "also apply pending versions below the newest applied one"),
    ]
    public static let mutates = true
    public static let example = """
        - id: apply-migrations
          kind: migrations.apply
          with: { dir: examples/churn-saver/migrations, lock_timeout: 5s }
        """

    let p: MigrationParameters
    let target: Int64?

    public init(_ parameters: StepParameters) throws {
        p = try MigrationParameters(parameters)
        target = parameters["to"].map { _ in Int64(parameters["to"]?.int ?? 0) }
        if parameters["to"] != nil, parameters["to"]?.int == nil { throw StepError("step '\(parameters.stepID)': parameter 'to' must be a version number") }
    }

    /// The engine's own dry-run: files load and parse, the database is reachable, the history is read.
    public func plan(_ context: StepContext) throws -> String {
        let r = try MigrationParameters.guarded { try p.migrator(context).apply(to: target, dryRun: true) }
        return r.message + "\n" + r.planText
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        PhaseClock.mark("apply step starts")
        defer { PhaseClock.mark("apply step ends") }
        let migrator = try MigrationParameters.guarded { try p.migrator(context) }
        let report = try MigrationParameters.guarded { try migrator.apply(to: target, dryRun: context.dryRun) }
        if context.dryRun { return .init(.skipped, report.message, details: MigrationParameters.json(report)) }
        return MigrationParameters.outcome(report)
    }
}
