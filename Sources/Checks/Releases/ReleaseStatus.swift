import Foundation
import Postgres

/// `rollback --status`: the release running now, the schema version it was recorded with against the
/// database's, and the release a full rollback would go back to.
public struct ReleaseStatus: StepKind {
    public static let name = "release.status"
    public static let summary = "Current release, its schema version against the database's, and the last good release"
    public static let parameters: [ParameterSpec] = [
        .init("environment", .string, required: true, "environment (usually ${config.name})"),
        .init("table", .string, default: "opsctl.schema_migrations", "migration history table"),
        Catalog.database,
    ]
    public static let mutates = false
    public static let example = """
        - id: release
          kind: release.status
          with: { environment: test }
        """

    let environment: String
    let table: String
    let variable: String?

    public init(_ p: StepParameters) throws {
        environment = try p.string("environment")
        table = try p.string("table", default: "opsctl.schema_migrations")
        variable = try p.optionalString("database_url_env")
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let (history, database) = try context.readOnlyQuery(variable: variable) { db in
            let store = ReleaseStore(db)
            return (try store.list(environment: environment), try store.schemaVersion(table: table))
        }
        var details: [String: JSONValue] = ["database_schema_version": database.map(JSONValue.int) ?? .null]
        let db = "database at schema \(database.map(String.init) ?? "none (no migration history)")"
        guard let current = history.first else {
            return .init(.warn, "no release recorded for \(environment) (\(db)): record deploys with 'opsctl deploy record --release ID'", details: details)
        }
        details["current"] = Self.json(current)
        var parts = ["current \(current.summary)", db]
        var status = StepStatus.ok
        if current.schemaVersion != database {
            status = .warn
            parts[1] += " — \(current.release) was recorded at schema \(current.schemaVersion.map(String.init) ?? "none")"
        }
        if let target = try? RollbackTarget.choose(history, release: nil, environment: environment) {
            details["last_good"] = Self.json(target.target)
            parts.append("last good \(target.target.summary)")
        } else {
            details["last_good"] = .null
            parts.append("no earlier release passed verify")
        }
        return .init(status, parts.joined(separator: "; "), details: details)
    }

    static func json(_ r: ReleaseEntry) -> JSONValue {
        .object(["release": .string(r.release), "action": .string(r.action), "verify": .string(r.verify),
                 "schema_version": r.schemaVersion.map(JSONValue.int) ?? .null,
                 "recorded_at": .string(ISO8601DateFormatter().string(from: r.recordedAt)), "recorded_by": .string(r.recordedBy)])
    }
}
