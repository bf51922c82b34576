import Foundation
import Postgres

/// Transaction-ID age of each database, as a share of the 2^31 hard limit.
public struct PostgresXIDWraparound: StepKind {
    public static let name = "postgres.xid_wraparound"
    public static let summary = "Transaction-ID age per database as % of the 2^31 wraparound limit (and of autovacuum_freeze_max_age)"
    public static let parameters: [ParameterSpec] = [
        Catalog.database,
        .init("warn", .number, default: 50, "percent of 2^31 at or above which the step warns"),
        .init("crit", .number, default: 75, "percent of 2^31 at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: xid-wraparound
          kind: postgres.xid_wraparound
          with: { warn: 50, crit: 75 }
        """

    let variable: String?
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        thresholds = try p.thresholds("", warn: 50, crit: 75)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        try wraparound(context, variable: variable, thresholds: thresholds, ageSQL: "age(datfrozenxid)",
                       setting: "autovacuum_freeze_max_age", metric: "xid_age", what: "transaction-ID age")
    }
}

/// Multixact-ID age of each database, as a share of the 2^31 limit.
public struct PostgresMultixactWraparound: StepKind {
    public static let name = "postgres.multixact_wraparound"
    public static let summary = "Multixact-ID age per database as % of the 2^31 wraparound limit (and of autovacuum_multixact_freeze_max_age)"
    public static let parameters: [ParameterSpec] = [
        Catalog.database,
        .init("warn", .number, default: 50, "percent of 2^31 at or above which the step warns"),
        .init("crit", .number, default: 75, "percent of 2^31 at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: multixact-wraparound
          kind: postgres.multixact_wraparound
        """

    let variable: String?
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        thresholds = try p.thresholds("", warn: 50, crit: 75)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        try wraparound(context, variable: variable, thresholds: thresholds, ageSQL: "mxid_age(datminmxid)",
                       setting: "autovacuum_multixact_freeze_max_age", metric: "multixact_age", what: "multixact age")
    }
}

private func wraparound(_ context: StepContext, variable: String?, thresholds: Thresholds, ageSQL: String,
                        setting: String, metric: String, what: String) throws -> StepOutcome {
    let (rows, freezeMax) = try context.catalogReadOnly(variable: variable) { db in
        (try db.query("SELECT datname, \(ageSQL)::float8 AS age FROM pg_database WHERE datallowconn").rows,
         try db.query("SELECT current_setting('\(setting)')::float8 AS v").first?["v"].double ?? 200_000_000)
    }
    let limit = 2_147_483_648.0
    let findings = rows.map { r in
        let age = r["age"].double ?? 0
        return Catalog.Finding(name: r["datname"].string ?? "?", value: age / limit * 100,
                               details: ["age": .int(Int(age)), "percent_of_\(setting)": .double((age / freezeMax * 10_000).rounded() / 100)])
    }
    var outcome = Catalog.worst(findings, thresholds: thresholds, metric: metric, unit: "%", noun: "database",
                                none: "no databases", max: 100) { "\(what) \(Catalog.percent($0)) of 2^31" }
    outcome.details[setting] = .int(Int(freezeMax))
    return outcome
}
