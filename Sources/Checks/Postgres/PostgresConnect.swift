import Foundation
import Postgres

/// Connects, reads the server version and times a `SELECT 1` round trip.
public struct PostgresConnect: StepKind {
    public static let name = "postgres.connect"
    public static let summary = "Connect to the database, check the server version and time a SELECT 1 round trip"
    public static let parameters: [ParameterSpec] = [
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
        .init("min_version", .int, default: 14, "lowest acceptable server major version"),
        .init("latency_warn", .duration, default: "100ms", "round trip at or above this warns"),
        .init("latency_crit", .duration, default: "1s", "round trip at or above this fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: database
          kind: postgres.connect
          with:
            min_version: 14
        """

    let variable: String?
    let minVersion: Int
    let thresholds: Thresholds

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        minVersion = try p.int("min_version", default: 14)
        thresholds = try p.thresholds("latency_", durations: true, warn: 100, crit: 1000)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let connectStart = Date()
        let connection = try context.connect(variable: variable)
        defer { connection.close() }
        let connectMs = Date().timeIntervalSince(connectStart) * 1000
        let start = Date()
        _ = try connection.query("SELECT 1")
        let roundTripMs = Date().timeIntervalSince(start) * 1000
        let version = connection.serverVersion
        let details: [String: JSONValue] = [
            "server_version": .string(version.text), "endpoint": .string(connection.endpoint),
            "connect_ms": .double(connectMs),
        ]
        let metrics = [
            thresholds.metric("round_trip", roundTripMs, unit: "ms", min: 0),
            Metric(name: "connect", value: connectMs, unit: "ms", min: 0),
        ]
        if version.number / 10000 < minVersion {
            return .init(.fail, "server \(version.text) is older than the required \(minVersion)", details: details, metrics: metrics)
        }
        let status = thresholds.status(for: roundTripMs)
        return .init(status, "Postgres \(version.text) at \(connection.endpoint), SELECT 1 in \(String(format: "%.1f", roundTripMs)) ms",
                     details: details, metrics: metrics)
    }
}
