import Foundation
import Migrations
import Support

/// Lint migrations from the Postgres parse tree (squawk's rules plus repository rules).
public struct MigrationsLint: StepKind {
    public static let name = "migrations.lint"
    public static let summary = "Lint migrations with the Postgres parser: locking hazards, risky types, numbering, missing or incomplete downs"
    public static let parameters: [ParameterSpec] = MigrationParameters.specs + [
        .init("files", .list, "lint only these files (default: the whole directory)"),
        .init("pending_only", .bool, default: false, "statement rules only for migrations not yet applied (needs the database)"),
        .init("warnings_fail", .bool, default: false, "treat warnings as failures"),
    ]
    public static let mutates = false
    public static let example = """
        - id: lint-migrations
          kind: migrations.lint
          with: { dir: examples/churn-saver/migrations }
        """

    let p: MigrationParameters
    let files: [String]
    let pendingOnly: Bool
    let warningsFail: Bool

    public init(_ parameters: StepParameters) throws {
        p = try MigrationParameters(parameters)
        files = try parameters.stringList("files")
        pendingOnly = try parameters.bool("pending_only", default: false)
        warningsFail = try parameters.bool("warnings_fail", default: false)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        PhaseClock.mark("lint step starts")
        defer { PhaseClock.mark("lint step ends") }
        let linter = Linter(cancellation: context.cancellation)
        let report: LintReport = try MigrationParameters.guarded {
            if !files.isEmpty { return linter.lint(files: files) }
            let set = try Discovery.load(p.config)
            var versions: Set<Int64>?
            if pendingOnly {
                versions = Set(try p.migrator(context).status().versions.filter { $0.state == .pending || $0.state == .outOfOrder }.map(\.version))
            }
            return linter.lint(set, versions: versions)
        }
        if context.cancellation.isCancelled {
            return .init(.error, "stopped before the lint finished (\(report.findings.count) finding(s) so far)")
        }
        let findings: [JSONValue] = report.findings.map { f in
            .object(["rule": .string(f.rule), "severity": .string(f.severity.rawValue), "file": .string(f.location.file),
                     "line": .int(f.location.line), "column": .int(f.location.column), "message": .string(f.message),
                     "rationale": .string(f.rationale), "alternative": .string(f.alternative)])
        }
        let metrics = [Metric(name: "lint_errors", value: Double(report.errors.count), unit: "count", crit: 1, min: 0),
                       Metric(name: "lint_warnings", value: Double(report.warnings.count), unit: "count",
                              warn: warningsFail ? nil : 1, crit: warningsFail ? 1 : nil, min: 0)]
        let details: [String: JSONValue] = ["findings": .array(findings), "files": .int(report.filesChecked)]
        guard !report.findings.isEmpty else {
            return .ok("\(report.filesChecked) migration(s) lint clean", details: details, metrics: metrics)
        }
        // Every finding is in details; the human report lists them all, grouped by file.
        let fileCount = Set(report.findings.map(\.location.file)).count
        let message = "\(report.errors.count) error(s), \(report.warnings.count) warning(s) in \(fileCount) file(s)"
        let status: StepStatus = !report.errors.isEmpty || warningsFail ? .fail : .warn
        return .init(status, message, details: details, metrics: metrics)
    }
}
