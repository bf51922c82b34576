import Foundation
import Migrations

/// Run down scripts newest first to a version or for a number of steps; refuses when a down is missing.
public struct MigrationsRollback: StepKind {
    public static let name = "migrations.rollback"
    public static let summary = "Roll back migrations (down scripts newest first, each in a transaction) to a version or by steps"
    public static let parameters: [ParameterSpec] = MigrationParameters.specs + MigrationParameters.runSpecs + [
        .init("to", .int, "roll back every version above this one"),
        .init("steps", .int, "roll back this many of the newest applied versions"),
    ]
    public static let mutates = true
    public static let example = """
        - id: rollback-one
          kind: migrations.rollback
          with: { dir: examples/churn-saver/migrations, steps: 1 }
        """

    let p: MigrationParameters
    let target: Int64?
    let steps: Int?

    public init(_ parameters: StepParameters) throws {
        p = try MigrationParameters(parameters)
        if parameters["to"] != nil, parameters["to"]?.int == nil { throw StepError("step '\(parameters.stepID)': parameter 'to' must be a version number") }
        target = parameters["to"]?.int.map(Int64.init)
        steps = parameters["steps"] == nil ? nil : try parameters.int("steps", default: 1)
        guard (target == nil) != (steps == nil) else {
            throw StepError("step '\(parameters.stepID)': give exactly one of 'to' (version) or 'steps' (count)")
        }
    }

    /// The engine's own dry-run: as apply's, and every migration to roll back has its down script.
    public func plan(_ context: StepContext) throws -> String {
        let r = try MigrationParameters.guarded { try p.migrator(context).rollback(to: target, steps: steps, dryRun: true) }
        return r.message + "\n" + r.planText
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let migrator = try MigrationParameters.guarded { try p.migrator(context) }
        let report: MigrationRunReport
        do {
            report = try migrator.rollback(to: target, steps: steps, dryRun: context.dryRun)
        } catch let e as MigrationError where e.kind == .blocked {
            // A missing down script is a finding about the migrations, not an evaluation error.
            return .init(.fail, e.description, details: MigrationParameters.details(e))
        } catch let e as MigrationError {
            throw StepError(e.description, details: MigrationParameters.details(e))
        }
        if context.dryRun { return .init(.skipped, report.message, details: MigrationParameters.json(report)) }
        return MigrationParameters.outcome(report)
    }
}
