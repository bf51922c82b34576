import Foundation
import Postgres

/// Extensions the schema needs are installed.
public struct PostgresExtensions: StepKind {
    public static let name = "postgres.extensions"
    public static let summary = "Required Postgres extensions are installed"
    public static let parameters: [ParameterSpec] = [
        .init("required", .list, required: true, "extension names, e.g. [pgcrypto, pg_stat_statements]"),
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
    ]
    public static let mutates = false
    public static let example = """
        - id: extensions
          kind: postgres.extensions
          with: { required: [plpgsql] }
        """

    let required: [String]
    let variable: String?

    public init(_ p: StepParameters) throws {
        required = try p.stringList("required")
        variable = try p.optionalString("database_url_env")
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let installed = try context.readOnlyQuery(variable: variable) { db in
            try db.query("SELECT extname FROM pg_extension").rows.compactMap { $0["extname"].string }
        }
        let missing = required.filter { !installed.contains($0) }
        let details: [String: JSONValue] = ["installed": .array(installed.sorted().map(JSONValue.string)),
                                            "missing": .array(missing.map(JSONValue.string))]
        if missing.isEmpty { return .ok("required extensions present: \(required.joined(separator: ", "))", details: details) }
        return .init(.fail, "missing extension(s): \(missing.joined(separator: ", ")) — CREATE EXTENSION needs a superuser or the provider's console",
                     details: details)
    }
}
