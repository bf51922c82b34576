import Foundation
import Postgres

/// Size of the current database, with optional thresholds.
public struct PostgresDatabaseSize: StepKind {
    public static let name = "postgres.database_size"
    public static let summary = "Size of the current database (bytes), with optional warn/crit limits"
    public static let parameters: [ParameterSpec] = [
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
        .init("warn_bytes", .number, "size at or above which the step warns"),
        .init("crit_bytes", .number, "size at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: database-size
          kind: postgres.database_size
        """

    let variable: String?
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        thresholds = try p.thresholds("", warn: try p.double("warn_bytes"), crit: try p.double("crit_bytes"))
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let row = try context.readOnlyQuery(variable: variable) { db in
            try db.query("SELECT current_database() AS name, pg_database_size(current_database())::bigint AS bytes, pg_size_pretty(pg_database_size(current_database())) AS pretty").first
        }
        let bytes = row?["bytes"].double ?? 0
        return .init(thresholds.status(for: bytes), "database \(row?["name"].string ?? "?") is \(row?["pretty"].string ?? "?")",
                     details: ["database": .string(row?["name"].string ?? ""), "bytes": .int(Int(bytes))],
                     metrics: [thresholds.metric("database_size", bytes, unit: "B", min: 0)])
    }
}
