import Foundation
import Migrations
import Support

/// After a deploy or rollback: every applied migration unchanged and the objects it created present.
public struct MigrationsVerify: StepKind {
    public static let name = "migrations.verify"
    public static let summary = "Check applied migrations: files unchanged, and the tables, indexes, columns and functions they create exist"
    public static let parameters: [ParameterSpec] = MigrationParameters.specs + [
        .init("version", .int, "also require the schema to be exactly at this version (after a rollback to N)"),
    ]
    public static let mutates = false
    public static let example = """
        - id: verify-schema
          kind: migrations.verify
          with: { dir: examples/churn-saver/migrations }
        """

    let p: MigrationParameters
    let version: Int64?

    public init(_ parameters: StepParameters) throws {
        p = try MigrationParameters(parameters)
        version = parameters["version"]?.int.map(Int64.init)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        PhaseClock.mark("verify step starts")
        defer { PhaseClock.mark("verify step ends") }
        let migrator = try MigrationParameters.guarded { try p.migrator(context) }
        let report = try MigrationParameters.guarded { try migrator.verify() }
        let current = report.currentVersion
        let details: [String: JSONValue] = [
            "applied": .int(report.appliedVersions), "objects_checked": .int(report.objectsChecked),
            "current_version": .int(Int(current)),
            "missing": .array(report.missing.map { .object(["version": .int(Int($0.version)), "object": .string($0.object.description)]) }),
            "modified": .array(report.modified.map { .int(Int($0)) }),
            "unfinished": .array(report.unfinished.map { .int(Int($0)) }),
            "missing_files": .array(report.missingFiles.map { .int(Int($0)) }),
        ]
        let metrics = [Metric(name: "schema_objects_missing", value: Double(report.missing.count), unit: "count", crit: 1, min: 0),
                       Metric(name: "schema_version", value: Double(current))]
        var problems: [String] = []
        if let version, version != current { problems.append("schema is at version \(current), expected \(version)") }
        if !report.missing.isEmpty {
            problems.append("missing: " + report.missing.prefix(5).map { "\($0.object) (from \($0.version))" }.joined(separator: ", "))
        }
        if !report.modified.isEmpty { problems.append("changed after apply: " + report.modified.map(String.init).joined(separator: ", ")) }
        if !report.unfinished.isEmpty { problems.append("failed or partial: " + report.unfinished.map(String.init).joined(separator: ", ")) }
        if !problems.isEmpty { return .init(.fail, problems.joined(separator: "; "), details: details, metrics: metrics) }
        if !report.missingFiles.isEmpty {
            return .init(.warn, "applied versions without files: " + report.missingFiles.map(String.init).joined(separator: ", "), details: details, metrics: metrics)
        }
        return .ok("schema at version \(current): \(report.appliedVersions) applied migration(s), \(report.objectsChecked) object(s) present",
                   details: details, metrics: metrics)
    }
}
