import Foundation
import Migrations

/// Adopts an existing database: records versions as applied without running them.
public struct MigrationsBaseline: StepKind {
    public static let name = "migrations.baseline"
    public static let summary = "Adopt an existing database: record migrations up to a version as applied (or import another runner's history table)"
    public static let parameters: [ParameterSpec] = MigrationParameters.specs + [
        .init("version", .int, "record every migration up to this version as applied"),
        .init("import_from", .string, "another runner's history table (schema.table) to import versions from"),
        .init("column", .string, default: "version", "the version column of that table (TypeORM's history table is recognised and its timestamp read)"),
    ]
    public static let mutates = true
    public static let example = """
        - id: adopt
          kind: migrations.baseline
          with: { dir: examples/churn-saver/migrations, version: 0 }
        """

    let p: MigrationParameters
    let version: Int64?
    let importFrom: String?
    let column: String

    public init(_ parameters: StepParameters) throws {
        p = try MigrationParameters(parameters)
        version = parameters["version"]?.int.map(Int64.init)
        importFrom = try parameters.optionalString("import_from")
        column = try parameters.string("column", default: "version")
        guard version != nil || importFrom != nil else {
            throw StepError("step '\(parameters.stepID)': give 'version' or 'import_from'")
        }
    }

    /// After the checks a real run starts with: files load, the database and its history are readable.
    public func plan(_ context: StepContext) throws -> String {
        try MigrationParameters.guarded {
            let migrator = try p.migrator(context)
            _ = try migrator.files()
            _ = try migrator.status()
        }
        if let importFrom { return "would import applied versions from \(importFrom).\(column) into the history" }
        return "would record every migration up to version \(version ?? 0) as applied, without running it"
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let migrator = try MigrationParameters.guarded { try p.migrator(context) }
        let recorded = try MigrationParameters.guarded { try migrator.baseline(version: version, importFrom: importFrom, column: column) }
        return .ok(recorded.isEmpty ? "nothing to record: history already covers it"
                   : "recorded \(recorded.count) version(s) as applied: \(recorded.map(String.init).joined(separator: ", "))",
                   details: ["versions": .array(recorded.map { .int(Int($0)) })])
    }
}
