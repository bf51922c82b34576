import Foundation
import Postgres

/// How much of each sequence's range is used: an exhausted sequence stops every insert.
public struct PostgresSequences: StepKind {
    public static let name = "postgres.sequences"
    public static let summary = "Sequence exhaustion: % of each sequence's range already used"
    public static let parameters: [ParameterSpec] = [
        Catalog.database,
        .init("warn", .number, default: 75, "percent used at or above which the step warns"),
        .init("crit", .number, default: 90, "percent used at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: sequences
          kind: postgres.sequences
          with: { warn: 75, crit: 90 }
        """

    let variable: String?
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        thresholds = try p.thresholds("", warn: 75, crit: 90)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        // last_value is NULL for a sequence never used (or not readable): nothing used yet.
        let rows = try context.catalogReadOnly(variable: variable) { db in
            try db.query("""
                SELECT schemaname AS schema, sequencename AS name, data_type::text AS type,
                       last_value::float8 AS last, min_value::float8 AS lo, max_value::float8 AS hi, increment_by::float8 AS step,
                       last_value AS last_int, CASE WHEN increment_by > 0 THEN max_value ELSE min_value END AS end_int
                  FROM pg_sequences
                """).rows
        }
        let findings = rows.map { r in
            let lo = r["lo"].double ?? 0, hi = r["hi"].double ?? 1, step = r["step"].double ?? 1
            let used: Double
            if let last = r["last"].double {
                used = (step > 0 ? last - lo : hi - last) / Swift.max(hi - lo, 1) * 100
            } else { used = 0 }
            return Catalog.Finding(name: Catalog.qualified(r, "name"), value: used,
                                   details: ["type": .string(r["type"].string ?? ""), "last_value": r["last_int"].int.map(JSONValue.int) ?? .null,
                                             "limit": r["end_int"].int.map(JSONValue.int) ?? .null])
        }
        return Catalog.worst(findings, thresholds: thresholds, metric: "sequence_used", unit: "%", noun: "sequence",
                             none: "no sequences", max: 100) { "\(Catalog.percent($0)) of its range used" }
    }
}
