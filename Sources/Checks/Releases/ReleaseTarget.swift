import Foundation
import Postgres

/// The release `rollback --mode full` goes back to, and why: the last release before the current one
/// whose verify passed (or the one named with --release). Read-only, so the dry run states it too.
public struct ReleaseTarget: StepKind {
    public static let name = "release.target"
    public static let summary = "Pick the release to roll back to: the last one before the current release whose verify passed"
    public static let parameters: [ParameterSpec] = [
        .init("environment", .string, required: true, "environment (usually ${config.name})"),
        .init("release", .string, "this release instead of the last good one"),
        Catalog.database,
    ]
    public static let mutates = false
    public static let example = """
        - id: target
          kind: release.target
          with: { environment: test }
        """

    let environment: String
    let release: String?
    let variable: String?

    public init(_ p: StepParameters) throws {
        environment = try p.string("environment")
        release = try p.nonEmptyString("release")
        variable = try p.optionalString("database_url_env")
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let history = try context.readOnlyQuery(variable: variable) { db in try ReleaseStore(db).list(environment: environment) }
        let choice: RollbackTarget
        do { choice = try RollbackTarget.choose(history, release: release, environment: environment) } catch let error as StepError {
            return .init(.fail, error.message, details: error.details)
        }
        return .ok("roll back to " + choice.reason, details: Self.details(choice))
    }

    static func details(_ choice: RollbackTarget) -> [String: JSONValue] {
        ["release": .string(choice.target.release), "schema_version": choice.target.schemaVersion.map(JSONValue.int) ?? .null,
         "current": .string(choice.current.release),
         "current_schema_version": choice.current.schemaVersion.map(JSONValue.int) ?? .null,
         "reason": .string(choice.reason)]
    }
}
