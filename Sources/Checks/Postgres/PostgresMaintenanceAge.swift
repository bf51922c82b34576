import Foundation
import Postgres

/// Time since each changed table was last vacuumed (manually or by autovacuum).
public struct PostgresVacuumAge: StepKind {
    public static let name = "postgres.vacuum_age"
    public static let summary = "Time since the last (auto)vacuum of each table that changed since, and tables never vacuumed"
    public static let parameters = MaintenanceAge.parameters(warn: "3d", crit: "7d", what: "vacuum")
    public static let mutates = false
    public static let example = """
        - id: vacuum-age
          kind: postgres.vacuum_age
          with: { warn: 3d, crit: 7d, min_rows: 1000 }
        """

    let check: MaintenanceAge

    public init(_ p: StepParameters) throws { check = try MaintenanceAge(p, what: "vacuum") }

    public func run(_ context: StepContext) throws -> StepOutcome {
        try check.run(context, lastSQL: "greatest(last_vacuum, last_autovacuum)", changedSQL: "n_dead_tup + n_ins_since_vacuum > 0")
    }
}

/// Time since each changed table was last analyzed: stale statistics mislead the planner.
public struct PostgresAnalyzeAge: StepKind {
    public static let name = "postgres.analyze_age"
    public static let summary = "Time since the last (auto)analyze of each table that changed since, and tables never analyzed"
    public static let parameters = MaintenanceAge.parameters(warn: "3d", crit: "7d", what: "analyze")
    public static let mutates = false
    public static let example = """
        - id: analyze-age
          kind: postgres.analyze_age
          with: { warn: 3d, crit: 7d, never: warn }
        """

    let check: MaintenanceAge

    public init(_ p: StepParameters) throws { check = try MaintenanceAge(p, what: "analyze") }

    public func run(_ context: StepContext) throws -> StepOutcome {
        try check.run(context, lastSQL: "greatest(last_analyze, last_autoanalyze)", changedSQL: "n_mod_since_analyze > 0")
    }
}

/// Shared by vacuum_age and analyze_age. A table that has not changed since its last run is fine
/// however old that run is; a table never processed is judged by `never`.
struct MaintenanceAge: Sendable {
    static func parameters(warn: String, crit: String, what: String) -> [ParameterSpec] {
        [Catalog.database,
         .init("warn", .duration, default: .string(warn), "time since the last \(what) at or above which the step warns"),
         .init("crit", .duration, default: .string(crit), "time since the last \(what) at or above which the step fails"),
         .init("min_rows", .int, default: 1000, "tables with fewer rows are not judged"),
         .init("never", .string, default: "warn", "status for a table never \(what)d: ok, warn or fail")]
    }

    let variable: String?
    let thresholds: Thresholds
    let minRows: Int
    let never: StepStatus
    let what: String

    init(_ p: StepParameters, what: String) throws {
        variable = try p.optionalString("database_url_env")
        thresholds = Thresholds(warn: try p.duration("warn", default: 3 * 86_400), crit: try p.duration("crit", default: 7 * 86_400))
        minRows = try p.int("min_rows", default: 1000)
        let text = try p.string("never", default: "warn")
        guard let status = StepStatus(rawValue: text), [.ok, .warn, .fail].contains(status) else {
            throw StepError("step '\(p.stepID)': parameter 'never' must be ok, warn or fail, got \(text)")
        }
        never = status
        self.what = what
    }

    func run(_ context: StepContext, lastSQL: String, changedSQL: String) throws -> StepOutcome {
        let rows = try context.catalogReadOnly(variable: variable) { db in
            try db.query("""
                SELECT schemaname AS schema, relname AS name, (n_live_tup + n_dead_tup)::float8 AS rows,
                       extract(epoch FROM now() - \(lastSQL))::float8 AS age_s
                  FROM pg_stat_user_tables
                 WHERE n_live_tup + n_dead_tup >= $1 AND (\(lastSQL) IS NULL OR \(changedSQL))
                """, [minRows]).rows
        }
        let neverDone = rows.filter { $0["age_s"].isNull }.map { Catalog.qualified($0, "name") }.sorted()
        let findings = rows.filter { !$0["age_s"].isNull }.map { r in
            Catalog.Finding(name: Catalog.qualified(r, "name"), value: r["age_s"].double ?? 0, details: ["rows": .int(r["rows"].int ?? 0)])
        }
        var outcome = Catalog.worst(findings, thresholds: thresholds, metric: "\(what)_age", unit: "s",
                                    noun: "changed table", none: "no changed table waits for \(what)") { "last \(what) \(Catalog.age($0)) ago" }
        guard !neverDone.isEmpty else { return outcome }
        outcome.details["never"] = .array(neverDone.map(JSONValue.string))
        if never.severity > outcome.status.severity { outcome.status = never }
        let shown = neverDone.prefix(5).joined(separator: ", ") + (neverDone.count > 5 ? ", …" : "")
        outcome.message = "\(neverDone.count) table(s) never \(what)d: \(shown); " + outcome.message
        return outcome
    }
}
