import Foundation
import Postgres

/// How much the database grew since the previous run.
public struct PostgresDatabaseGrowth: StepKind {
    public static let name = "postgres.database_growth"
    public static let summary = "Growth of this database's size since the previous run (the size is kept in opsctl.health_state)"
    public static let parameters: [ParameterSpec] = [Catalog.database]
        + Catalog.byteLimits("growth since the previous run", warn: 1_073_741_824, crit: 10_737_418_240)
    public static let mutates = false
    public static let example = """
        - id: database-growth
          kind: postgres.database_growth
          with: { warn_bytes: 1073741824, crit_bytes: 10737418240 }
        """

    let variable: String?
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        thresholds = try Catalog.byteThresholds(p, warn: 1_073_741_824, crit: 10_737_418_240)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let (size, saved, saveProblem) = try context.sincePreviousRun(check: Self.name, variable: variable, read: { db in
            try db.query("SELECT pg_database_size(current_database())::float8 AS bytes").first?["bytes"].double ?? 0
        }, values: { size, _ in ["database": size] })
        let previous = saved["database"]
        var details: [String: JSONValue] = ["bytes": .int(Int(size))]
        if let saveProblem { details["state"] = .string(saveProblem) }
        guard let previous else {
            return .ok("first run: database is \(Catalog.bytes(size)); the next runs report the growth since now", details: details,
                       metrics: [thresholds.metric("database_growth", 0, unit: "B"), Metric(name: "database_size", value: size, unit: "B", min: 0)])
        }
        let growth = size - previous.value
        details["previous_bytes"] = .int(Int(previous.value))
        details["since"] = .string(ISO8601DateFormatter().string(from: previous.recordedAt))
        return .init(thresholds.status(for: growth),
                     "database \(growth >= 0 ? "grew" : "shrank") \(Catalog.bytes(abs(growth))) to \(Catalog.bytes(size)) since the previous run \(Catalog.age(Date().timeIntervalSince(previous.recordedAt))) ago",
                     details: details,
                     metrics: [thresholds.metric("database_growth", growth, unit: "B"), Metric(name: "database_size", value: size, unit: "B", min: 0)])
    }
}

/// Which tables grew most since the previous run (table + indexes + TOAST).
public struct PostgresTableGrowth: StepKind {
    public static let name = "postgres.table_growth"
    public static let summary = "Growth of each table (with indexes and TOAST) since the previous run; the fastest-growing table against the limits"
    public static let parameters: [ParameterSpec] = [Catalog.database]
        + Catalog.byteLimits("growth of one table since the previous run", warn: 536_870_912, crit: 5_368_709_120) + [
        .init("tables", .int, default: 200, "how many of the largest tables are tracked"),
    ]
    public static let mutates = false
    public static let example = """
        - id: table-growth
          kind: postgres.table_growth
          with: { warn_bytes: 536870912, crit_bytes: 5368709120 }
        """

    let variable: String?
    let thresholds: Thresholds
    let tables: Int

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        thresholds = try Catalog.byteThresholds(p, warn: 536_870_912, crit: 5_368_709_120)
        tables = try p.int("tables", default: 200)
    }

    static func sizes(_ rows: [Postgres.Row]) -> [String: Double] {
        var sizes: [String: Double] = [:]
        for r in rows { sizes["\(r["schema"].string ?? "").\(r["name"].string ?? "")"] = r["bytes"].double ?? 0 }
        return sizes
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let (rows, previous, saveProblem) = try context.sincePreviousRun(check: Self.name, variable: variable, read: { db in
            try db.query("""
                SELECT n.nspname AS schema, c.relname AS name, pg_total_relation_size(c.oid)::float8 AS bytes
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ('r', 'm', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'opsctl')
                   AND n.nspname NOT LIKE 'pg_toast%'
                 ORDER BY 3 DESC LIMIT $1
                """, [tables]).rows
        }, values: { rows, _ in Self.sizes(rows) })
        let sizes = Self.sizes(rows)
        if previous.isEmpty {
            var outcome = StepOutcome.ok("first run: \(sizes.count) table(s) measured; the next runs report the growth since now",
                                         details: ["tables": .int(sizes.count)], metrics: [thresholds.metric("table_growth", 0, unit: "B")])
            if let saveProblem { outcome.details["state"] = .string(saveProblem) }
            return outcome
        }
        // A table new since the previous run grew by its whole size.
        let findings = rows.map { r in
            let key = "\(r["schema"].string ?? "").\(r["name"].string ?? "")", now = r["bytes"].double ?? 0
            let before = previous[key]?.value
            return Catalog.Finding(name: Catalog.qualified(r, "name"), value: now - (before ?? 0),
                                   details: ["bytes": .int(Int(now)), "previous_bytes": before.map { .int(Int($0)) } ?? .null])
        }
        let since = previous.values.map(\.recordedAt).min() ?? Date()
        var outcome = Catalog.worst(findings, thresholds: thresholds, metric: "table_growth", unit: "B", noun: "table",
                                    none: "no tables") { "grew \(Catalog.bytes($0)) since the previous run \(Catalog.age(Date().timeIntervalSince(since))) ago" }
        if let saveProblem { outcome.details["state"] = .string(saveProblem) }
        return outcome
    }
}
