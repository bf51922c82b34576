import Foundation
import Migrations

/// Apply all migrations to a scratch database, check every down restores the schema, re-apply.
public struct MigrationsRehearse: StepKind {
    public static let name = "migrations.rehearse"
    public static let summary = "Rehearse in a scratch database: apply all from empty, down/up check newest to oldest, re-apply (CI)"
    public static let parameters: [ParameterSpec] = MigrationParameters.specs + [
        .init("server_url_env", .string, "env var with a URL of the server to rehearse on (needs CREATEDB; default: the database URL's server)"),
    ]
    public static let mutates = false
    public static let example = """
        - id: rehearse-migrations
          kind: migrations.rehearse
          with: { dir: examples/churn-saver/migrations }
        """

    let p: MigrationParameters
    let serverVariable: String?

    public init(_ parameters: StepParameters) throws {
        p = try MigrationParameters(parameters)
        serverVariable = try parameters.optionalString("server_url_env")
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let server = try MigrationParameters.dsn(context, serverVariable ?? p.variable)
        var config = p.config
        config.applicationName = context.applicationName
        let report: RehearsalReport
        do {
            report = try Rehearsal(config: config, serverDSN: server, cancellation: context.cancellation).run()
        } catch let e as MigrationError where e.kind == .invalidInput {
            // Duplicate versions: the migrations cannot be ordered, a finding rather than an evaluation error.
            return .init(.fail, e.description, details: MigrationParameters.details(e))
        } catch let e as MigrationError {
            throw StepError(e.description, details: MigrationParameters.details(e))
        }
        var details: [String: JSONValue] = [
            "steps": .array(report.steps.map { s in
                .object(["version": .int(Int(s.version)), "name": .string(s.name), "phase": .string(s.phase),
                         "ok": .bool(s.ok), "message": .string(s.message), "duration_ms": .int(s.durationMs)])
            }),
            "migrations": .int(report.migrations),
        ]
        if let d = report.firstNonRestoringDown {
            details["first_non_restoring_down"] = .object(["version": .int(Int(d.version)), "difference": .array(d.difference.map(JSONValue.string))])
        }
        for (key, failure) in [("fresh_failure", report.freshFailure), ("down_failure", report.downFailure), ("reapply_failure", report.reapplyFailure)] {
            if let failure { details[key] = .object(MigrationParameters.details(failure).merging(["message": .string(failure.description)]) { a, _ in a }) }
        }
        let metrics = [Metric(name: "rehearse_duration", value: Double(report.durationMs), unit: "ms")]
        return .init(report.passed ? .ok : .fail, report.message, details: details, metrics: metrics)
    }
}
