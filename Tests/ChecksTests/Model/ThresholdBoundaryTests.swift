import Foundation
import Testing
import TestSupport
@testable import Checks

/// One rule for every threshold-bearing kind: a limit fires when the value reaches it
/// (`>=`, or `<=` with `below: true`). Each kind is driven to limit − ε, limit and limit + ε.
@Suite("Threshold boundaries")
struct ThresholdBoundaryTests {
    /// (value, warn, crit, below, expected)
    @Test(arguments: [
        (0.99, 1.0, 2.0, false, StepStatus.ok), (1.0, 1.0, 2.0, false, .warn), (1.01, 1.0, 2.0, false, .warn),
        (1.99, 1.0, 2.0, false, .warn), (2.0, 1.0, 2.0, false, .fail), (2.01, 1.0, 2.0, false, .fail),
        (30.01, 30.0, 7.0, true, .ok), (30.0, 30.0, 7.0, true, .warn), (29.99, 30.0, 7.0, true, .warn),
        (7.01, 30.0, 7.0, true, .warn), (7.0, 30.0, 7.0, true, .fail), (6.99, 30.0, 7.0, true, .fail),
    ])
    func theRule(value: Double, warn: Double, crit: Double, below: Bool, expected: StepStatus) {
        #expect(Thresholds(warn: warn, crit: crit, direction: below ? .below : .above).status(for: value) == expected)
    }

    static let database = Result { try TestDatabase.fresh("threshold_boundaries") }

    func context() throws -> StepContext {
        StepContext(environment: ["DATABASE_URL": try Self.database.get()], applicationName: "opsctl/test/thresholds")
    }

    /// `sql.query` with a constant: `crit: 1` is critical at 1.
    @Test(.enabled(if: TestDatabase.available), arguments: [
        ("0.999", StepStatus.warn), ("1", .fail), ("1.001", .fail),
        ("0.499", .ok), ("0.5", .warn), ("0.501", .warn),
    ])
    func sqlQueryAbove(value: String, expected: StepStatus) throws {
        let kind = try SQLQuery(StepParameters([
            "sql": .string("SELECT \(value)::float8 AS n"),
            "thresholds": .object(["n": .object(["warn": .double(0.5), "crit": .int(1)])]),
        ], stepID: "q"))
        let outcome = try kind.run(context())
        #expect(outcome.status == expected, "n = \(value): \(outcome.message)")
        #expect(outcome.metrics.first?.crit == 1)
    }

    @Test(.enabled(if: TestDatabase.available), arguments: [
        ("99.001", StepStatus.ok), ("99", .warn), ("98.999", .warn), ("95.001", .warn), ("95", .fail), ("94.999", .fail),
    ])
    func sqlQueryBelow(value: String, expected: StepStatus) throws {
        let kind = try SQLQuery(StepParameters([
            "sql": .string("SELECT \(value)::float8 AS success_pct"),
            "thresholds": .object(["success_pct": .object(["warn": .int(99), "crit": .int(95), "below": .bool(true)])]),
        ], stepID: "q"))
        #expect(try kind.run(context()).status == expected, "success_pct = \(value)")
    }

    /// The shipped reconcile's `duplicates: {crit: 1}` fails on one duplicated provider id.
    @Test(.enabled(if: TestDatabase.available), arguments: [(0, StepStatus.ok), (1, .fail), (2, .fail)])
    func oneDuplicateFailsTheInvariant(duplicates: Int, expected: StepStatus) throws {
        let kind = try SQLQuery(StepParameters([
            "sql": .string("SELECT \(duplicates)::int AS duplicates"),
            "thresholds": .object(["duplicates": .object(["crit": .int(1)])]),
        ], stepID: "duplicate-provider-ids"))
        #expect(try kind.run(context()).status == expected)
    }

    /// `postgres.database_size` against the real size of a quiet database: limit = size − 1, size, size + 1.
    @Test(.enabled(if: TestDatabase.available))
    func databaseSize() throws {
        let probe = try PostgresDatabaseSize(StepParameters([:], stepID: "size")).run(context())
        let size = try #require(probe.metrics.first?.value)
        for (limit, expected) in [(size + 1, StepStatus.ok), (size, .fail), (size - 1, .fail)] {
            let kind = try PostgresDatabaseSize(StepParameters(["crit_bytes": .double(limit)], stepID: "size"))
            #expect(try kind.run(context()).status == expected, "size \(size), crit \(limit)")
        }
        for (limit, expected) in [(size + 1, StepStatus.ok), (size, .warn), (size - 1, .warn)] {
            let kind = try PostgresDatabaseSize(StepParameters(["warn_bytes": .double(limit)], stepID: "size"))
            #expect(try kind.run(context()).status == expected, "size \(size), warn \(limit)")
        }
    }

    /// Counting kinds (idle in transaction, lock waits) on a sandbox where the count is 0:
    /// a limit of 0 is reached, a limit of 1 is not.
    @Test(.enabled(if: TestDatabase.available))
    func countingKindsFireAtTheLimit() throws {
        for (warn, expected) in [(1, StepStatus.ok), (0, .warn)] {
            let idle = try PostgresIdleInTransaction(StepParameters(["older_than": .string("24h"), "warn": .int(warn), "crit": .int(100)], stepID: "idle"))
            #expect(try idle.run(context()).status == expected, "idle in transaction, warn \(warn)")
        }
    }

    /// `env.validate` publishes `invalid_variables` with `crit: 1`: one invalid variable fails.
    @Test func envValidateMetricAgreesWithTheRule() throws {
        let kind = try EnvValidate(StepParameters(["rules": .object(["X": .object(["required": .bool(true)])])], stepID: "env"))
        let outcome = try kind.run(StepContext(environment: [:]))
        let metric = try #require(outcome.metrics.first)
        #expect(outcome.status == .fail)
        #expect(Thresholds(crit: metric.crit).status(for: metric.value) == .fail)
        let ok = try kind.run(StepContext(environment: ["X": "set"]))
        #expect(Thresholds(crit: ok.metrics.first?.crit).status(for: ok.metrics.first?.value ?? -1) == .ok)
    }
}

/// `migrations.lint`: `lint_errors` carries `crit: 1` and the step fails at one error, not two.
@Suite("Lint threshold")
struct LintThresholdTests {
    @Test(arguments: [0, 1, 2])
    func lintFailsAtOneError(errors: Int) throws {
        let dir = TemporaryDirectory()
        var sql = "CREATE TABLE ok_table (id int);\n"
        for i in 0..<errors { sql += "DROP TABLE dropped_\(i);\n" }
        let file = try dir.write("001_boundary.sql", sql)
        let kind = try MigrationsLint(StepParameters(["files": .array([.string(file)])], stepID: "lint"))
        let outcome = try kind.run(StepContext(environment: [:]))
        let metric = try #require(outcome.metrics.first { $0.name == "lint_errors" })
        #expect(metric.value == Double(errors), "\(outcome.message)")
        // Warnings (a missing down file) may warn; only errors fail.
        #expect(outcome.status.isFailure == (errors >= 1), "\(outcome.message)")
        #expect(Thresholds(crit: metric.crit).status(for: metric.value) == (errors >= 1 ? .fail : .ok))
        // Warnings: one warns (or fails with warnings_fail), and the metric says so.
        let warnings = try #require(outcome.metrics.first { $0.name == "lint_warnings" })
        #expect(warnings.warn == 1)
    }

    @Test func oneWarningFailsWithWarningsFail() throws {
        let dir = TemporaryDirectory()
        let file = try dir.write("001_warn.sql", "CREATE TABLE t (id int);\n")
        let kind = try MigrationsLint(StepParameters(["files": .array([.string(file)]), "warnings_fail": .bool(true)], stepID: "lint"))
        let outcome = try kind.run(StepContext(environment: [:]))
        let warnings = try #require(outcome.metrics.first { $0.name == "lint_warnings" })
        #expect(warnings.value >= 1, "\(outcome.message)")
        #expect(warnings.crit == 1)
        #expect(outcome.status == .fail)
    }
}

/// Kinds whose value is a time (latency, age, days left) cannot be driven to exactly the limit by
/// a live run; each builds its limits into the one `Thresholds` rule, checked here at the limit.
@Suite("Time-valued thresholds")
struct TimeValuedThresholdTests {
    @Test func httpLatencyFiresAtTheLimit() throws {
        let kind = try HTTPRequestKind(StepParameters(["url": .string("/"), "latency_warn": .string("500ms"), "latency_crit": .string("2s")], stepID: "h"))
        #expect(kind.latency.status(for: 499.9) == .ok)
        #expect(kind.latency.status(for: 500) == .warn)
        #expect(kind.latency.status(for: 1999.9) == .warn)
        #expect(kind.latency.status(for: 2000) == .fail)
    }

    @Test func postgresRoundTripFiresAtTheLimit() throws {
        let kind = try PostgresConnect(StepParameters(["latency_warn": .string("100ms"), "latency_crit": .string("1s")], stepID: "c"))
        #expect(kind.thresholds.status(for: 99.9) == .ok)
        #expect(kind.thresholds.status(for: 100) == .warn)
        #expect(kind.thresholds.status(for: 1000) == .fail)
    }

    @Test func longTransactionsFireAtTheLimit() throws {
        let kind = try PostgresLongTransactions(StepParameters(["warn": .string("5m"), "crit": .string("30m")], stepID: "l"))
        #expect(kind.thresholds.status(for: 299.9) == .ok)
        #expect(kind.thresholds.status(for: 300) == .warn)
        #expect(kind.thresholds.status(for: 1800) == .fail)
    }

    @Test func connectionsFireAtTheLimit() throws {
        let kind = try PostgresConnections(StepParameters(["warn": .int(80), "crit": .int(95)], stepID: "c"))
        #expect(kind.thresholds.status(for: 79.99) == .ok)
        #expect(kind.thresholds.status(for: 80) == .warn)
        #expect(kind.thresholds.status(for: 95) == .fail)
    }

    @Test func tlsDaysLeftFireAtOrBelowTheLimit() throws {
        let kind = try TLSCertificate(StepParameters(["url": .string("https://example.com"), "warn_days": .int(30), "crit_days": .int(7)], stepID: "t"))
        #expect(kind.thresholds.status(for: 30.01) == .ok)
        #expect(kind.thresholds.status(for: 30) == .warn)
        #expect(kind.thresholds.status(for: 7.01) == .warn)
        #expect(kind.thresholds.status(for: 7) == .fail)
    }
}

/// `logs.analyze` publishes its limits in the one rule's terms: `errors>50` on a count is a limit of 51.
@Suite("Log metric limits")
struct LogMetricLimitTests {
    @Test(arguments: [("errors>50:fail", 51.0), ("errors>=50:fail", 50.0), ("errors>0:fail", 1.0)])
    func countLimits(rule: String, crit: Double) throws {
        let dir = TemporaryDirectory()
        let file = try dir.write("app.log", #"{"level":"error","msg":"x"}"# + "\n")
        let kind = try LogsAnalyze(StepParameters(["files": .array([.string(file)]), "thresholds": .array([.string(rule)])], stepID: "logs"))
        let outcome = try kind.run(StepContext(environment: [:]))
        let metric = try #require(outcome.metrics.first { $0.name == "errors" })
        #expect(metric.crit == crit)
        // The metric and the rule agree on the value measured (one error).
        #expect(Thresholds(crit: metric.crit).status(for: metric.value).isFailure == (outcome.status == .fail))
    }
}
