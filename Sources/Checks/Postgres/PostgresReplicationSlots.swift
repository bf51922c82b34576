import Foundation
import Postgres

/// Replication slots that nobody consumes still pin WAL: the disk fills until the slot is dropped.
public struct PostgresReplicationSlots: StepKind {
    public static let name = "postgres.replication_slots"
    public static let summary = "Inactive replication slots and the WAL bytes they hold back"
    public static let parameters: [ParameterSpec] = [Catalog.database]
        + Catalog.byteLimits("WAL held by an inactive slot", warn: 1_073_741_824, crit: 10_737_418_240)
    public static let mutates = false
    public static let example = """
        - id: replication-slots
          kind: postgres.replication_slots
          with: { warn_bytes: 1073741824, crit_bytes: 10737418240 }
        """

    let variable: String?
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        thresholds = try Catalog.byteThresholds(p, warn: 1_073_741_824, crit: 10_737_418_240)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let rows = try context.catalogReadOnly(variable: variable) { db in
            try db.query("""
                SELECT slot_name AS name, slot_type, active, coalesce(wal_status, '') AS wal_status,
                       coalesce(pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END,
                                                restart_lsn), 0)::float8 AS retained
                  FROM pg_replication_slots
                """).rows
        }
        let slots: [JSONValue] = rows.map { r in
            .object(["name": .string(r["name"].string ?? ""), "type": .string(r["slot_type"].string ?? ""),
                     "active": .bool(r["active"].bool ?? false), "wal_status": .string(r["wal_status"].string ?? ""),
                     "retained_bytes": .int(r["retained"].int ?? 0)])
        }
        let inactive = rows.filter { $0["active"].bool == false }
        let findings = inactive.map { Catalog.Finding(name: $0["name"].string ?? "?", value: $0["retained"].double ?? 0,
                                                      details: ["type": .string($0["slot_type"].string ?? "")]) }
        let none = rows.isEmpty ? "no replication slots" : "\(rows.count) replication slot(s), all active"
        var outcome = Catalog.worst(findings, thresholds: thresholds, metric: "inactive_slot_wal", unit: "B", noun: "inactive slot",
                                    none: none) { "holds \(Catalog.bytes($0)) of WAL" }
        outcome.details["slots"] = .array(slots)
        return outcome
    }
}
