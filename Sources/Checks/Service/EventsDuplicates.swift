import Foundation
import Postgres

/// Provider event ids stored more than once, and whether a unique index on the id column prevents it:
/// without one, a redelivered webhook is processed twice. Read through the declared event store.
public struct EventsDuplicates: StepKind {
    public static let name = "service.events_duplicates"
    public static let summary = "Duplicate provider event ids in service.events and a missing unique index on them (crit at one)"
    public static let parameters: [ParameterSpec] = [
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
    ]
    public static let mutates = false
    public static let example = """
        - id: duplicate-provider-ids
          kind: service.events_duplicates
        """

    let variable: String?
    let step: String

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        step = p.stepID
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let store = try context.service.eventStore(for: step)
        let row = try store.summaryRow(context, variable: variable, """
                SELECT (SELECT count(*) FROM (SELECT 1 FROM \(store.tableSQL) GROUP BY \(store.providerIDSQL()) HAVING count(*) > 1) d)::int AS duplicates,
                       (NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                                     WHERE i.indrelid = to_regclass(\(store.tableLiteral)) AND i.indisunique AND i.indnatts = 1
                                       AND a.attname = $1))::int AS missing_unique
                """, [store.providerID])
        let duplicates = row?["duplicates"].int ?? 0
        let missing = row?["missing_unique"].int ?? 0
        let limit = Thresholds(crit: 1)
        let status = [limit.status(for: Double(duplicates)), limit.status(for: Double(missing))].max { $0.severity < $1.severity } ?? .ok
        return .init(status, "\(duplicates) duplicated \(store.providerID) values; unique constraint missing: \(missing)",
                     details: ["duplicates": .int(duplicates), "missing_unique": .int(missing)],
                     metrics: [limit.metric("duplicates", Double(duplicates)), limit.metric("missing_unique", Double(missing))])
    }
}
