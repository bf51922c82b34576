import Checks
import Foundation
import Support

/// One realistic run exercising every corner the formats must survive: all five statuses,
/// retries, metrics with odd units, a remediation, a blocked step, and a shell step whose
/// output tries to break XML, TAP, Nagios and Prometheus and carries a secret.
enum ReportFixture {
    /// Registered with SecretMasker.shared; must never appear in any output.
    static let canary = "canary-S3CR3T-9f2b7c1d"

    static let start = Date(timeIntervalSince1970: 1_795_000_000.25)

    /// Tries everything: markup, CDATA end, TAP directives and test lines, a pipe, an ANSI
    /// colour, a BEL and a vertical tab, a line separator, and the secret.
    static let hostileOutput = "GET /healthz -> 502 <html><b>Bad Gateway</b></html> & \"retry\" 'later' | tail\n"
        + "# SKIP not really\nnot ok 99 - injected\n  ---\nBail out! fake ]]> \u{1B}[31mred\u{1B}[0m \u{07}bell\u{0B}vt"
        + " \u{2028}sep token=\(canary)"

    static func step(_ offset: Double, _ id: String, _ title: String, _ kind: String, _ status: StepStatus,
                     _ message: String, durationMs: Double, attempts: Int = 1, metrics: [Metric] = [],
                     remediation: String? = nil, blockedBy: [String]? = nil,
                     details: [String: JSONValue] = [:]) -> StepResult {
        StepResult(id: id, title: title, kind: kind, status: status, message: message, details: details,
                   metrics: metrics, startedAt: start.addingTimeInterval(offset), durationMs: durationMs,
                   attempts: attempts, remediation: remediation, blockedBy: blockedBy)
    }

    /// The realistic run: 1 ok (after 3 attempts), 1 plain ok, 1 warn, 2 fail, 1 error, 1 skipped.
    static var report: RunReport {
        SecretMasker.shared.register(canary)
        return RunReport(runID: "20261124-112610-7f3c", runbook: "verify", environment: "production",
                         startedAt: start, durationMs: 9_137.5, results: [
            step(0, "env", "Environment variables", "env.require", .ok, "all 4 required variables set",
                 durationMs: 3.25),
            step(0.25, "db-connect", "Postgres reachable", "postgres.connect", .ok,
                 "accepting connections (PostgreSQL 16.4)", durationMs: 2_150, attempts: 3,
                 metrics: [Metric(name: "latency", value: 12.5, unit: "ms", warn: 200, crit: 1000)]),
            step(2.5, "db-size", "Database size", "postgres.database_size", .warn, "database at 81% of its 40 GB quota",
                 durationMs: 340, metrics: [
                    Metric(name: "used_pct", value: 81, unit: "%", warn: 80, crit: 90, min: 0, max: 100),
                    Metric(name: "size", value: 32.4, unit: "GB"),
                    Metric(name: "relations", value: 342, unit: "count"),
                    Metric(name: "cert_days_left", value: 12, unit: "days", warn: 14, crit: 7),
                 ], remediation: "plan a VACUUM FULL window or raise the quota"),
            step(2.875, "migrations", "Pending migrations", "migrations.pending", .fail,
                 "2 pending migrations: 0042_add_index, 0043_backfill_plans", durationMs: 1_200,
                 metrics: [Metric(name: "pending", value: 2, unit: "count", warn: 1, crit: 1)],
                 remediation: "opsctl migrate apply --env production (after checking `opsctl migrate status`)"),
            step(4.125, "health", "Service health", "http.get", .error, hostileOutput, durationMs: 5_000,
                 remediation: "check the pods: kubectl -n churn get pods; then rerun with --from health",
                 details: ["url": "https://churn.example.com/healthz",
                           "database_url": .string("postgres://app:\(canary)@db.internal/churn"),
                           "body": .string(hostileOutput)]),
            step(9.125, "smoke", "Smoke tests", "http.get", .skipped, "skipped: a dependency did not pass",
                 durationMs: 0, blockedBy: ["migrations", "health"]),
            step(9.125, "reconcile-dry", "Reconcile \"plans\" (dry 'run')", "shell", .fail,
                 "exit 3: ERROR:  relation \"plan_totals\" does not exist\nLINE 1: SELECT * FROM plan_totals WHERE a<b && c",
                 durationMs: 12.5, metrics: [
                    Metric(name: "rows='missing' \"x\"", value: 3, unit: "rows"),
                    Metric(name: "ratio", value: 0.000012, unit: "ratio"),
                 ], remediation: "see the reconcile section of the runbook"),
        ])
    }

    /// Every step passes (a warn and a skip included): consumers must accept it as a pass.
    static var passingReport: RunReport {
        RunReport(runID: "20261124-120000-a1b2", runbook: "health", environment: "staging", startedAt: start,
                  durationMs: 812, results: [
            step(0, "db-connect", "Postgres reachable", "postgres.connect", .ok, "accepting connections",
                 durationMs: 20, attempts: 2),
            step(0.5, "db-size", "Database size", "postgres.database_size", .warn, "database at 81% of quota",
                 durationMs: 300, metrics: [Metric(name: "used_pct", value: 81, unit: "%", warn: 80, crit: 90)]),
            step(0.75, "cleanup", "Cleanup", "shell", .skipped, "when: false", durationMs: 0),
        ])
    }
}
