import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Postgres

/// `/api/health` and its parts. Each check answers `healthy`, `degraded` or `unhealthy`;
/// the endpoint answers 503 when any check is unhealthy.
struct HealthChecks: Sendable {
    enum Level: Int, Comparable, Sendable {
        case healthy, degraded, unhealthy
        var name: String { ["healthy", "degraded", "unhealthy"][rawValue] }
        static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    struct Check {
        var level: Level
        var fields: [String: Any]
        var json: [String: Any] { fields.merging(["status": level.name]) { _, new in new } }
    }

    let pool: DatabasePool
    let whopAPIURL: String?

    /// Thresholds of REFERENCE-SERVICE.md: success below 90 % or p95 above 10 s is unhealthy;
    /// below 99 % or p95 above 500 ms is degraded.
    static let window = 15

    func respond(_ names: [String], extraTopLevel: Bool = false) async -> Response {
        var checks: [String: Any] = [:]
        var worst = Level.healthy
        var top: [String: Any] = [:]
        for name in names {
            let check: Check
            switch name {
            case "database": check = await database()
            case "webhooks": check = await webhooks()
            case "queue": check = await queue()
            default: check = await external()
            }
            checks[name] = check.json
            worst = max(worst, check.level)
            if extraTopLevel { top.merge(check.fields) { old, _ in old } }
        }
        top["status"] = worst.name
        top["checks"] = checks
        top["timestamp"] = JSONResponse.timestamp()
        return JSONResponse.make(top, status: worst == .unhealthy ? .serviceUnavailable : .ok)
    }

    func database() async -> Check {
        let start = ContinuousClock.now
        do {
            let version = try await pool.run { connection in
                try connection.query("SELECT current_setting('server_version') AS v").first?["v"].string ?? ""
            }
            let ms = Self.milliseconds(since: start)
            return Check(level: ms > 1000 ? .degraded : .healthy,
                         fields: ["latency_ms": JSONResponse.round1(ms), "server_version": version])
        } catch {
            return Check(level: .unhealthy, fields: ["error": Self.describe(error)])
        }
    }

    func webhooks() async -> Check {
        do {
            let row = try await pool.run { connection in
                try connection.query("""
                    SELECT count(*) AS total,
                           count(*) FILTER (WHERE status = 'failed') AS failed,
                           coalesce(percentile_cont(0.50) WITHIN GROUP (ORDER BY duration_ms), 0) AS p50,
                           coalesce(percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms), 0) AS p95,
                           coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms), 0) AS p99
                      FROM webhook_logs
                     WHERE created_at > now() - make_interval(mins => $1)
                    """, [Self.window]).first
            }
            let total = row?["total"].int ?? 0, failed = row?["failed"].int ?? 0
            let successRate = total == 0 ? 100 : Double(total - failed) * 100 / Double(total)
            let p95 = row?["p95"].double ?? 0
            var level = Level.healthy
            if successRate < 99 || p95 > 500 { level = .degraded }
            if successRate < 90 || p95 > 10_000 { level = .unhealthy }
            return Check(level: level, fields: [
                "window_minutes": Self.window, "total": total, "failed": failed,
                "success_rate": JSONResponse.round1(successRate),
                "error_rate": JSONResponse.round1(100 - successRate),
                "p50_ms": JSONResponse.round1(row?["p50"].double ?? 0), "p95_ms": JSONResponse.round1(p95),
                "p99_ms": JSONResponse.round1(row?["p99"].double ?? 0),
            ])
        } catch {
            return Check(level: .unhealthy, fields: ["error": Self.describe(error)])
        }
    }

    /// Unprocessed events: older than 15 minutes is degraded, older than an hour unhealthy.
    func queue() async -> Check {
        do {
            let row = try await pool.run { connection in
                try connection.query("""
                    SELECT count(*) AS unprocessed,
                           count(*) FILTER (WHERE error IS NOT NULL) AS failed,
                           extract(epoch FROM now() - min(created_at))::float8 AS oldest
                      FROM events WHERE NOT processed
                    """).first
            }
            let oldest = row?["oldest"].double
            var level = Level.healthy
            if let oldest, oldest > 15 * 60 { level = .degraded }
            if let oldest, oldest > 60 * 60 { level = .unhealthy }
            return Check(level: level, fields: [
                "unprocessed": row?["unprocessed"].int ?? 0, "failed": row?["failed"].int ?? 0,
                "oldest_unprocessed_age_s": oldest.map { JSONResponse.round1($0) } ?? NSNull(),
            ])
        } catch {
            return Check(level: .unhealthy, fields: ["error": Self.describe(error)])
        }
    }

    /// Whop API reachability; only probed when WHOP_API_URL is set (the service never calls out otherwise).
    func external() async -> Check {
        guard let whopAPIURL, let url = URL(string: whopAPIURL) else {
            return Check(level: .healthy, fields: ["whop_api": "not configured (set WHOP_API_URL to probe it)"])
        }
        var request = URLRequest(url: url)
        request.timeoutInterval = 3
        let start = ContinuousClock.now
        do {
            let (_, response) = try await URLSession.shared.data(for: request)
            let code = (response as? HTTPURLResponse)?.statusCode ?? 0
            return Check(level: code >= 500 ? .degraded : .healthy,
                         fields: ["whop_api": whopAPIURL, "status_code": code,
                                  "latency_ms": JSONResponse.round1(Self.milliseconds(since: start))])
        } catch {
            return Check(level: .degraded, fields: ["whop_api": whopAPIURL, "error": error.localizedDescription])
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresError { return error.message }
        return String(describing: error)
    }
}
