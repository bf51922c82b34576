import Foundation
import Postgres
import Testing
import TestSupport
@testable import Checks

/// `sql.query` with `window:` and `baseline:` on the sandbox: a deploy whose 5xx rate doubles against
/// the window before fails, one at its baseline passes; the other sources (another window, another
/// environment's database, a recorded run) and the missing/zero baselines.
@Suite("sql.query baselines", .enabled(if: TestDatabase.available), .serialized)
struct SQLQueryBaselineTests {
    static let databases = Result { (try TestDatabase.fresh("baseline_current"), try TestDatabase.fresh("baseline_stable")) }

    /// 5xx rate of the window; the SQL is the shipped service-metrics shape, bounds bound as $1/$2.
    static let errorRate = """
        SELECT count(*) AS requests,
               coalesce(100.0 * count(*) FILTER (WHERE status_code >= 500) / nullif(count(*), 0), 0)::float8 AS error_pct
          FROM api_request_logs WHERE created_at > $1 AND created_at <= $2
        """

    /// Fills api_request_logs: per (minutes ago, requests, 5xx) batch.
    static func seed(_ url: String, _ batches: [(minutesAgo: Int, requests: Int, errors: Int)]) throws {
        let db = try PostgresConnection(dsn: url)
        defer { db.close() }
        try db.execute("""
            DROP TABLE IF EXISTS api_request_logs;
            CREATE TABLE api_request_logs (id bigint GENERATED ALWAYS AS IDENTITY, status_code int NOT NULL, created_at timestamptz NOT NULL);
            """)
        for b in batches {
            try db.query("""
                INSERT INTO api_request_logs (status_code, created_at)
                SELECT CASE WHEN i <= $2 THEN 503 ELSE 200 END, now() - make_interval(mins => $3)
                  FROM generate_series(1, $1::int) i
                """, [b.requests, b.errors, b.minutesAgo])
        }
    }

    func step(_ extra: [String: JSONValue], limits: [String: JSONValue] = [:]) throws -> SQLQuery {
        var column: [String: JSONValue] = ["warn": .int(50), "crit": .int(90), "unit": .string("%")]
        column.merge(limits) { $1 }
        var with: [String: JSONValue] = [
            "sql": .string(Self.errorRate), "params": .array([.string("${window.start}"), .string("${window.end}")]),
            "window": .string("15m"), "thresholds": .object(["error_pct": .object(column)]),
        ]
        with.merge(extra) { $1 }
        return try SQLQuery(StepParameters(with, stepID: "api-errors"))
    }

    static let increase: [String: JSONValue] = [
        "increase_pct": .object(["warn": .int(50), "crit": .int(100)]),
        "increase_abs": .object(["warn": .int(1), "crit": .int(5)]),
    ]

    func context(_ url: String) -> StepContext {
        StepContext(environment: ["DATABASE_URL": url], applicationName: "opsctl/test/baselines")
    }

    @Test func aDeployThatDoublesTheErrorRateFailsOneAtBaselinePasses() throws {
        let (url, _) = try Self.databases.get()
        let kind = try step(["baseline": .string("previous")], limits: Self.increase)
        // Before the deploy (15–30 min ago) 2 % 5xx; after it (the last 15 min) 4 %: doubled.
        try Self.seed(url, [(20, 100, 2), (5, 100, 4)])
        let doubled = try kind.run(context(url))
        #expect(doubled.status == .fail, "\(doubled.message)")
        #expect(doubled.message.contains("error_pct 4 vs 2 (+2, +100%)"), "\(doubled.message)")
        #expect(doubled.message.contains("increase_pct 100 ≥ crit 100"), "\(doubled.message)")
        let baseline = try #require(doubled.details["baseline"]?.object)
        #expect(baseline["source"]?.string == "previous")
        #expect(baseline["columns"]?.object?["error_pct"]?.object?["baseline"]?.double == 2)
        #expect(baseline["window"]?.object?["end"]?.string == doubled.details["window"]?.object?["start"]?.string)
        #expect(doubled.metrics.contains { $0.name == "error_pct_change_pct" && $0.value == 100 && $0.crit == 100 })

        // The same 2 % after the deploy: at baseline, passes.
        try Self.seed(url, [(20, 100, 2), (5, 100, 2)])
        let steady = try kind.run(context(url))
        #expect(steady.status == .ok, "\(steady.message)")
        #expect(steady.message.contains("error_pct 2 vs 2 (+0, +0%)"), "\(steady.message)")

        // +50 % warns (2 → 3), just under it does not (2 → 2.99 is not expressible in 100 rows: 200 rows).
        try Self.seed(url, [(20, 100, 2), (5, 100, 3)])
        #expect(try kind.run(context(url)).status == .warn)
        try Self.seed(url, [(20, 200, 4), (5, 200, 5)])
        #expect(try kind.run(context(url)).status == .ok, "2 → 2.5 % is +25 %")
    }

    /// Boundaries on the live path: increase_abs { warn: 1, crit: 5 } in percentage points.
    @Test(arguments: [(0, StepStatus.ok), (1, .warn), (4, .warn), (5, .fail), (6, .fail)])
    func increaseAbsBoundaries(extraErrors: Int, expected: StepStatus) throws {
        let (url, _) = try Self.databases.get()
        let kind = try step(["baseline": .string("previous")], limits: ["increase_abs": .object(["warn": .int(1), "crit": .int(5)])])
        try Self.seed(url, [(20, 100, 10), (5, 100, 10 + extraErrors)])
        let outcome = try kind.run(context(url))
        #expect(outcome.status == expected, "+\(extraErrors) points: \(outcome.message)")
    }

    /// A baseline of 0 has no percentage: increase_abs decides; without it the step warns "baseline is 0".
    @Test func zeroBaseline() throws {
        let (url, _) = try Self.databases.get()
        try Self.seed(url, [(20, 100, 0), (5, 100, 2)])
        let both = try step(["baseline": .string("previous")], limits: Self.increase).run(context(url))
        #expect(both.status == .warn, "+2 points ≥ increase_abs warn 1: \(both.message)")
        let pctOnly = try step(["baseline": .string("previous")], limits: ["increase_pct": .object(["crit": .int(100)])]).run(context(url))
        #expect(pctOnly.status == .warn, "\(pctOnly.message)")
        #expect(pctOnly.message.contains("baseline is 0"), "\(pctOnly.message)")
        try Self.seed(url, [(20, 100, 0), (5, 100, 0)])
        #expect(try step(["baseline": .string("previous")], limits: ["increase_pct": .object(["crit": .int(100)])]).run(context(url)).status == .ok)
    }

    /// `24h-ago`: the same window a day earlier; the day before's errors are the baseline.
    @Test func shiftedWindow() throws {
        let (url, _) = try Self.databases.get()
        try Self.seed(url, [(24 * 60 + 5, 100, 4), (20, 100, 0), (5, 100, 4)])
        let dayAgo = try step(["baseline": .string("24h-ago")], limits: Self.increase).run(context(url))
        #expect(dayAgo.status == .ok, "4 % now, 4 % a day ago: \(dayAgo.message)")
        #expect(dayAgo.details["baseline"]?.object?["source"]?.string == "24h-ago", "\(dayAgo.details)")
        #expect(dayAgo.message.contains("vs 24h-ago: error_pct 4 vs 4"), "\(dayAgo.message)")
        let previous = try step(["baseline": .string("previous")], limits: Self.increase).run(context(url))
        // The window just before had no errors: from 0 there is no %, increase_abs (+4 points ≥ warn 1) decides.
        #expect(previous.status == .warn, "\(previous.message)")
    }

    /// No rows in the baseline: `baseline_missing` decides (warn by default); absolute limits still hold.
    @Test func missingBaseline() throws {
        let (url, _) = try Self.databases.get()
        try Self.seed(url, [(5, 100, 2)])
        let grouped = """
            SELECT status_code, count(*)::float8 AS n FROM api_request_logs
             WHERE created_at > $1 AND created_at <= $2 GROUP BY status_code ORDER BY n DESC
            """
        func run(_ missing: String?) throws -> StepOutcome {
            var with: [String: JSONValue] = [
                "sql": .string(grouped), "params": .array([.string("${window.start}"), .string("${window.end}")]),
                "window": .string("15 minutes"), "baseline": .string("previous"),
                "thresholds": .object(["n": .object(["crit": .int(1000), "increase_pct": .object(["crit": .int(50)])])]),
            ]
            if let missing { with["baseline_missing"] = .string(missing) }
            return try SQLQuery(StepParameters(with, stepID: "grouped")).run(context(url))
        }
        let warned = try run(nil)
        #expect(warned.status == .warn, "\(warned.message)")
        #expect(warned.message.contains("no baseline (no rows in the baseline window)"), "\(warned.message)")
        #expect(try run("ok").status == .ok)
        #expect(try run("fail").status == .fail)
    }

    /// `--baseline-env green`: the same query and window on the stable environment's database.
    @Test func anotherEnvironmentsDatabase() throws {
        let (canary, stable) = try Self.databases.get()
        try Self.seed(canary, [(5, 100, 6)])
        try Self.seed(stable, [(5, 100, 3)])
        let kind = try step(["baseline": .string("previous")], limits: Self.increase)
        var ctx = context(canary)
        ctx.environment["STABLE_DATABASE_URL"] = stable
        ctx.baselineEnvironment = ("green", "STABLE_DATABASE_URL")
        let doubled = try kind.run(ctx)
        #expect(doubled.status == .fail, "\(doubled.message)")
        #expect(doubled.message.contains("vs env green: error_pct 6 vs 3"), "\(doubled.message)")
        try Self.seed(stable, [(5, 100, 6)])
        #expect(try kind.run(ctx).status == .ok)
    }

    /// A recorded run's value (the journal hands it over through the context).
    @Test func recordedRun() throws {
        let (url, _) = try Self.databases.get()
        try Self.seed(url, [(5, 100, 4)])
        let kind = try step(["baseline": .string("last-ok")], limits: Self.increase)
        var ctx = context(url)
        ctx.recordedRun = { _ in
            RecordedRun(runID: "r1", results: [StepResult(id: "metrics", title: "", kind: "runbook", status: .ok, message: "",
                                                          metrics: [Metric(name: "api-errors.error_pct", value: 2)])])
        }
        let outcome = try kind.run(ctx)
        #expect(outcome.status == .fail, "\(outcome.message)")
        #expect(outcome.message.contains("vs last ok run r1: error_pct 4 vs 2"), "\(outcome.message)")
        ctx.recordedRun = { _ in nil }
        let none = try kind.run(ctx)
        #expect(none.status == .warn && none.message.contains("no ok run"), "\(none.message)")
    }

    @Test func invalidSettingsAreRefused() throws {
        let sql: JSONValue = .string("SELECT 1 AS n")
        #expect(throws: StepError.self) { try SQLQuery(StepParameters(["sql": sql, "window": .string("15m")], stepID: "s")) }
        #expect(throws: StepError.self) { try SQLQuery(StepParameters(["sql": sql, "baseline": .string("previous")], stepID: "s")) }
        #expect(throws: StepError.self) {
            try SQLQuery(StepParameters(["sql": sql, "thresholds": .object(["n": .object(["increase_pct": .object(["crit": .int(1)])])])], stepID: "s"))
        }
        #expect(throws: StepError.self) { try step(["baseline": .string("tomorrow")]) }
        #expect(throws: StepError.self) { try step(["window": .string("soon")]) }
        #expect(throws: StepError.self) { try step(["baseline": .string("previous"), "baseline_missing": .string("error")]) }
    }
}
