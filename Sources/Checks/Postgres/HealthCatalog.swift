import Foundation
import Postgres

/// Shared pieces of the Postgres health catalog: parameter docs, "worst object against the
/// limits" outcomes, and the small state table that remembers counters between runs.
enum Catalog {
    static let database = ParameterSpec("database_url_env", .string, "env var holding the database URL (default: the environment's)")

    /// `warn_bytes`/`crit_bytes`, documented by what the bytes measure ("temp bytes since the previous run").
    static func byteLimits(_ what: String, warn: Int, crit: Int) -> [ParameterSpec] {
        [.init("warn_bytes", .number, default: .int(warn), "\(what) at or above which the step warns"),
         .init("crit_bytes", .number, default: .int(crit), "\(what) at or above which the step fails")]
    }

    /// The limits `byteLimits` declares, as given or defaulted.
    static func byteThresholds(_ p: StepParameters, warn: Int, crit: Int) throws -> Thresholds {
        Thresholds(warn: try p.double("warn_bytes", default: Double(warn)), crit: try p.double("crit_bytes", default: Double(crit)))
    }

    /// One measured object (table, index, sequence, slot, database).
    struct Finding {
        var name: String
        var value: Double
        var details: [String: JSONValue] = [:]
    }

    /// The status is the worst finding's; details list the worst `limit` findings, worst first.
    static func worst(_ findings: [Finding], thresholds: Thresholds, metric: String, unit: String, noun: String,
                      emptyValue: Double = 0, none: String, limit: Int = 20, max: Double? = nil,
                      describe: (Double) -> String) -> StepOutcome {
        let above = thresholds.direction == .above
        let sorted = findings.sorted { above ? $0.value > $1.value : $0.value < $1.value }
        guard let top = sorted.first else {
            return .ok(none, details: ["checked": .int(0)], metrics: [thresholds.metric(metric, emptyValue, unit: unit, min: 0, max: max)])
        }
        let flagged = sorted.filter { thresholds.status(for: $0.value) != .ok }
        let listed: [JSONValue] = sorted.prefix(limit).map { f in
            var object = f.details
            object["name"] = .string(f.name)
            object[metric] = .double((f.value * 100).rounded() / 100)
            object["status"] = .string(thresholds.status(for: f.value).rawValue)
            return .object(object)
        }
        let status = thresholds.status(for: top.value)
        let message = flagged.isEmpty
            ? "\(sorted.count) \(noun)(s) within limits; worst \(top.name): \(describe(top.value))"
            : "\(flagged.count) \(noun)(s) past the limit; worst \(top.name): \(describe(top.value))"
        return .init(status, message, details: ["checked": .int(sorted.count), "flagged": .int(flagged.count), "worst": .array(listed)],
                     metrics: [thresholds.metric(metric, top.value, unit: unit, min: 0, max: max)])
    }

    /// Objects that should not exist (invalid, unused, duplicate indexes): the count against the limits.
    static func counted(_ items: [[String: JSONValue]], names: [String], thresholds: Thresholds, metric: String,
                        noun: String, none: String) -> StepOutcome {
        let status = thresholds.status(for: Double(items.count))
        let shown = names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", …" : "")
        let message = items.isEmpty ? none : "\(items.count) \(noun)(s): \(shown)"
        return .init(status, message, details: [metric: .array(items.map(JSONValue.object))],
                     metrics: [thresholds.metric(metric, Double(items.count), unit: "count", min: 0)])
    }

    static func percent(_ value: Double) -> String { String(format: value < 0.1 && value > 0 ? "%.4f %%" : "%.1f %%", value) }

    static func bytes(_ value: Double) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var v = abs(value), i = 0
        while v >= 1024, i < units.count - 1 { v /= 1024; i += 1 }
        return (value < 0 ? "-" : "") + (i == 0 ? "\(Int(v)) B" : String(format: "%.1f %@", v, units[i]))
    }

    static func age(_ seconds: Double) -> String {
        if seconds >= 86_400 { return String(format: "%.1f days", seconds / 86_400) }
        if seconds >= 3600 { return String(format: "%.1f h", seconds / 3600) }
        if seconds >= 60 { return String(format: "%.0f min", seconds / 60) }
        return String(format: "%.0f s", seconds)
    }

    /// `schema.name` for messages; `public.` is left out as an operator would.
    static func qualified(_ row: Postgres.Row, _ name: String, schema: String = "schema") -> String {
        let s = row[schema].string ?? ""
        return (s.isEmpty || s == "public" ? "" : s + ".") + (row[name].string ?? "?")
    }
}

/// Values a check remembers between runs (deadlock counter, sizes, temp bytes) in
/// `opsctl.health_state`, beside the run journal in the target database.
enum HealthState {
    struct Previous { var value: Double; var recordedAt: Date }

    /// The values `check` saved last time; read inside the check's read-only transaction.
    static func previous(_ db: PostgresConnection, check: String) throws -> [String: Previous] {
        guard try db.query("SELECT to_regclass('opsctl.health_state') IS NOT NULL AS present").first?["present"].bool == true else { return [:] }
        let rows = try db.query("SELECT key, value, recorded_at FROM opsctl.health_state WHERE check_name = $1", [check]).rows
        var result: [String: Previous] = [:]
        for row in rows {
            guard let key = row["key"].string, let value = row["value"].double else { continue }
            result[key] = Previous(value: value, recordedAt: row["recorded_at"].date ?? Date())
        }
        return result
    }

    /// Replaces the values of `check` (outside the read-only transaction). Returns why it could not,
    /// e.g. on a read-only replica or without CREATE rights: the check still reports, it just can't compare next time.
    static func save(_ db: PostgresConnection, check: String, values: [String: Double]) -> String? {
        do {
            try db.transaction(statementTimeoutMs: 5_000, lockTimeoutMs: 2_000) { db in
                if try db.query("SELECT to_regclass('opsctl.health_state') IS NULL AS missing").first?["missing"].bool == true {
                    try OpsctlSchema.lock(inTransaction: db)
                    try db.execute("""
                        CREATE SCHEMA IF NOT EXISTS opsctl;
                        CREATE TABLE IF NOT EXISTS opsctl.health_state (
                            check_name text NOT NULL, key text NOT NULL, value float8 NOT NULL,
                            recorded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (check_name, key))
                        """)
                }
                try db.query("DELETE FROM opsctl.health_state WHERE check_name = $1", [check])
                let keys = Array(values.keys)
                try db.query("""
                    INSERT INTO opsctl.health_state (check_name, key, value)
                    SELECT $1, k, v::float8 FROM unnest($2::text[], $3::text[]) AS u(k, v)
                    """, [check, keys, keys.map { String(values[$0] ?? 0) }])
            }
            return nil
        } catch {
            return "could not save the value for the next run: \(error)"
        }
    }
}
