import Foundation
import Postgres

/// Temporary files written by queries (sorts and hashes that spilled past work_mem) since the previous run.
public struct PostgresTempFiles: StepKind {
    public static let name = "postgres.temp_files"
    public static let summary = "Temp files and bytes written in this database since the previous run (queries spilling past work_mem)"
    public static let parameters: [ParameterSpec] = [Catalog.database]
        + Catalog.byteLimits("temp bytes since the previous run", warn: 1_073_741_824, crit: 10_737_418_240)
    public static let mutates = false
    public static let example = """
        - id: temp-files
          kind: postgres.temp_files
          with: { warn_bytes: 1073741824, crit_bytes: 10737418240 }
        """

    let variable: String?
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        thresholds = try Catalog.byteThresholds(p, warn: 1_073_741_824, crit: 10_737_418_240)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let (row, previous, saveProblem) = try context.sincePreviousRun(check: Self.name, variable: variable, read: { db in
            try db.query("""
                SELECT temp_files::float8 AS files, temp_bytes::float8 AS bytes, current_setting('work_mem') AS work_mem
                  FROM pg_stat_database WHERE datname = current_database()
                """).first
        }, values: { row, _ in ["files": row?["files"].double ?? 0, "bytes": row?["bytes"].double ?? 0] })
        let files = row?["files"].double ?? 0, bytes = row?["bytes"].double ?? 0
        var details: [String: JSONValue] = ["total_files": .int(Int(files)), "total_bytes": .int(Int(bytes)),
                                            "work_mem": .string(row?["work_mem"].string ?? "")]
        let deltaFiles: Double, deltaBytes: Double, message: String
        if let before = previous["bytes"], let beforeFiles = previous["files"] {
            // Counters that went down were reset: count from zero.
            deltaBytes = bytes >= before.value ? bytes - before.value : bytes
            deltaFiles = files >= beforeFiles.value ? files - beforeFiles.value : files
            details["since"] = .string(ISO8601DateFormatter().string(from: before.recordedAt))
            message = "\(Int(deltaFiles)) temp file(s), \(Catalog.bytes(deltaBytes)) since the previous run \(Catalog.age(Date().timeIntervalSince(before.recordedAt))) ago"
        } else {
            deltaBytes = bytes
            deltaFiles = files
            message = "first run: \(Int(files)) temp file(s), \(Catalog.bytes(bytes)) since the statistics were reset (the next runs report the change)"
        }
        if let saveProblem { details["state"] = .string(saveProblem) }
        return .init(thresholds.status(for: deltaBytes), message, details: details,
                     metrics: [thresholds.metric("temp_bytes", deltaBytes, unit: "B", min: 0),
                               Metric(name: "temp_files", value: deltaFiles, unit: "count", min: 0)])
    }
}
