import Checks
import Foundation
import LogAnalysis
@testable import Migrations
import Runbooks
import Support
import Testing

/// One fuzz target per parser of outside input (see FuzzEngine.swift for the knobs). A target passes when
/// every input ended in a result or a described error; a crash takes the runner down and fails the run.
@Suite("Fuzz: every parser survives hostile input")
struct ParserFuzzTests {
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// An error must say something: an empty description would leave the operator with nothing.
    static func described(_ error: Error) -> String {
        let text = "\(error)"
        #expect(!text.trimmingCharacters(in: .whitespaces).isEmpty, "an error without a description: \(type(of: error))")
        return "error " + Fuzzer.signature(text)
    }

    func report(_ target: String, _ summary: Fuzzer.Summary) {
        // Not a speed assertion: a line in the log says how much was tried and the slowest input's size.
        print("fuzz \(target): \(summary.executions) inputs, \(summary.outcomes) distinct outcomes, slowest \(String(format: "%.3f", summary.slowest)) s (\(summary.slowestInput.count) bytes)")
    }

    @Test func runbookYAML() throws {
        let loader = RunbookLoader(library: RunbookLibrary(directories: []))
        let fuzzer = Fuzzer(target: "runbook", tokens: [
            "steps:\n", "  - id: a\n    kind: pause\n", "with: {", "when: ", "retry: {attempts: ", "timeout: ", "for_each: [",
            "needs: [", "always: ", "confirm: ", "continue_on_failure: ", "params:\n  x: {type: int, default: ", "lock: ",
            "kind: sql.query\n", "max_rows: ", "expect_rows: ", "statement_timeout: ", "duration: ", "&a ", "*a", "!!str ",
            "${params.x}", "${item}", "kind: runbook\n", "enabled", "yes", "[production]", "~", "'", "\"", ": ", "\n", "  ",
        ])
        let summary = try fuzzer.run { bytes in
            do {
                let runbook = try loader.parse(Self.text(bytes), file: "fuzz.yaml")
                return "ok \(runbook.steps.count > 3 ? "many" : String(runbook.steps.count)) steps"
            } catch { return Self.described(error) }
        }
        report("runbook", summary)
    }

    @Test func opsctlConfig() throws {
        let fuzzer = Fuzzer(target: "config", tokens: [
            "environments:\n", "  prod:\n", "    protected: ", "    base_url: ", "    webhook: { scheme: ", "    secrets: [",
            "    env_rules:\n      X: { min_length: ", "    migrations: { dir: ", "default_environment: ", "thresholds: {a: ",
            "enabled", "maybe", "2", "[production]", "true", "false", "http://", "{", "}", "[", "]", ": ", "\n", "&a", "*a",
        ])
        let summary = try fuzzer.run { bytes in
            do {
                let config = try Config.parse(Self.text(bytes), file: "/tmp/opsctl.yaml")
                return "ok \(config.environments.count > 3 ? "many" : String(config.environments.count)) environments"
            } catch { return Self.described(error) }
        }
        report("config", summary)
    }

    @Test func migrationSQL() throws {
        let fuzzer = Fuzzer(target: "sql", tokens: [
            ";", "$$", "$tag$", "'", "E'\\'", "/*", "*/", "--", "\n", "-- migrate:up\n", "-- migrate:down\n",
            "-- migrate:up transaction:false\n", "CREATE TABLE t (id int);", "CREATE INDEX CONCURRENTLY i ON t (id);",
            "BEGIN;", "COMMIT;", "DO $$ BEGIN END $$;", "CREATE RULE r AS ON INSERT TO t DO INSTEAD (SELECT 1; SELECT 2);",
            "COPY t FROM stdin;\n1\n\\.\n", "\\", "(", ")",
        ])
        let summary = try fuzzer.run { bytes in
            let text = Self.text(bytes)
            var outcome = ""
            if let sections = SingleFileFormat.split(text) { outcome += "single \(sections.down == nil ? "up" : "up+down") " }
            do {
                let script = try SQLParser.parse(text, file: "fuzz.sql")
                for statement in script.statements { _ = script.location(of: statement, serverPosition: statement.text.utf8.count) }
                return outcome + "ok \(min(script.statements.count, 4)) statements"
            } catch { return outcome + Self.described(error) }
        }
        report("sql", summary)
    }

    @Test(arguments: [LogFormat?.none, .json, .logfmt, .plain])
    func logLines(format: LogFormat?) throws {
        let dir = TemporaryFuzzDirectory()
        let path = dir.path + "/fuzz.log"
        var options = LogAnalysisOptions(groupBy: "route", latencyField: "duration_ms")
        options.format = format
        options.workers = 1
        options.maxLineBytes = 4096
        var fuzzer = Fuzzer(target: "logs", tokens: [
            "{\"level\":\"error\",", "\"msg\":\"", "\"time\":\"2026-11-24T09:00:00Z\"", "\"ts\":", "\"duration_ms\":",
            "\"route\":", "level=error ", "msg=\"", "time=", "duration_ms=", "route=", "ERROR ", "WARN ", "2026-11-24 09:00:00 ",
            "\u{1B}]52;c;", "\u{1B}[2J", "\\u0000", "\\ud800", "\n", "\r\n", "\t", "{", "}", "[", "]", "\"", "=", ":",
        ])
        let target = "logs-\(format?.rawValue ?? "auto")"
        fuzzer.label = target
        let summary = try fuzzer.run { bytes in
            do {
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                let report = try LogAnalyzer(options).analyze(paths: [path])
                let text = report.renderText(width: 100)
                #expect(!text.isEmpty)
                return "ok \(min(report.lines, 3)) lines \(min(report.unparsed, 2)) unparsed \(min(report.errors, 2)) errors "
                    + "\(min(report.groups.count, 2)) groups \(min(report.topFingerprints.count, 3)) fingerprints latency \(report.latency != nil)"
            } catch { return Self.described(error) }
        }
        report(target, summary)
    }

    @Test func durations() throws {
        let fuzzer = Fuzzer(target: "durations", tokens: ["ms", "s", "m", "h", "d", "days", ".", "-", "1", "0", " ", "e", "+"], maxInput: 4096)
        let summary = try fuzzer.run { bytes in
            let text = Self.text(bytes)
            let seconds = DurationText.seconds(text)
            let problem = DurationText.problem(text)
            #expect((seconds == nil) == (problem != nil), "seconds and problem disagree on '\(text)'")
            if let seconds {
                #expect(seconds >= 0 && seconds <= DurationText.maximumSeconds)
                _ = DurationText.format(milliseconds: seconds * 1000)
                _ = Int(seconds * 1000) // what the Postgres kinds do with it: must not trap
                return "ok"
            }
            // The step parameter reader agrees and says why.
            do { _ = try StepParameters(["d": .string(text)], stepID: "fuzz").duration("d"); Issue.record("accepted '\(text)'") } catch {
                _ = Self.described(error)
            }
            return "rejected " + Fuzzer.signature(problem ?? "")
        }
        report("durations", summary)
    }

    @Test func whenExpressions() throws {
        let values: [String: JSONValue] = ["params.mode": "full", "params.n": 3, "steps.a.status": "ok", "env.X": .null,
                                           "params.big": .double(1e300), "params.list": [1, 2]]
        let fuzzer = Fuzzer(target: "when", tokens: [
            "(", ")", "!", "&&", "||", "==", "!=", "<", "<=", ">", ">=", "'", "\"", "${", "}", "params.mode", "steps.a.status",
            "true", "false", "null", "99999999999999999999", "1.5", "-1", " ",
        ])
        let summary = try fuzzer.run { bytes in
            do {
                let condition = try Condition(Self.text(bytes))
                _ = condition.paths
                return "ok \(condition.evaluate { values[$0] })"
            } catch { return Self.described(error) }
        }
        report("when", summary)
    }
}

/// A scratch directory removed at the end of the test.
final class TemporaryFuzzDirectory: @unchecked Sendable {
    let path = NSTemporaryDirectory() + "opsctl-fuzz-" + UUID().uuidString.prefix(8)
    init() { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Shapes a random mutation rarely builds: very deep trees in every recursive parser.
@Suite("Fuzz: deep structures")
struct DeepStructureTests {
    @Test(arguments: [1_000, 10_000, 100_000])
    func deepSQLExpressionsAreParsedOrRefused(depth: Int) {
        for sql in ["SELECT " + String(repeating: "1+", count: depth) + "1;",
                    "SELECT " + String(repeating: "(", count: depth) + "1" + String(repeating: ")", count: depth) + ";",
                    "SELECT " + String(repeating: "ARRAY[", count: depth) + "1" + String(repeating: "]", count: depth) + ";"] {
            do { _ = try SQLParser.parse(sql, file: "deep.sql") } catch { _ = ParserFuzzTests.described(error) }
        }
    }

    @Test func aLongButRealisticChainStillParses() throws {
        let script = try SQLParser.parse("SELECT " + Array(repeating: "'a'", count: 400).joined(separator: " || ") + ";", file: "long.sql")
        #expect(script.statements.count == 1)
    }

    @Test func aDeepChainIsAClearSyntaxError() {
        #expect(throws: SQLSyntaxError.self) { try SQLParser.parse("SELECT " + String(repeating: "1+", count: 100_000) + "1;", file: "deep.sql") }
        do { _ = try SQLParser.parse("SELECT " + String(repeating: "1+", count: 100_000) + "1;", file: "deep.sql") } catch {
            #expect("\(error)".contains("nested too deeply"), "\(error)")
        }
    }

    /// Postgres' lexer is quadratic in a run of `+`: 40k took 13 s. Refused up front.
    @Test func longOperatorRunsAreRefusedButNotInsideStringsOrComments() throws {
        let run = String(repeating: "+", count: 70_000)
        #expect(throws: SQLSyntaxError.self) { try SQLParser.parse("SELECT 1" + run + "1;", file: "ops.sql") }
        let fine = "SELECT '\(run)' AS s; -- \(run)\n/* \(run) */ SELECT $x$\(run)$x$; SELECT \"a\(run)\" FROM t;"
        do { _ = try SQLParser.parse(fine, file: "fine.sql") } catch { #expect(!"\(error)".contains("operator characters"), "\(error)") }
        #expect(OperatorRuns.firstTooLong(Array(fine.utf8)) == nil)
    }

    @Test(arguments: [1_000, 100_000])
    func deepJSONPayloadsAreParsedOrRefused(depth: Int) {
        _ = JSONValue.parse(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        _ = JSONValue.parse(String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth))
    }

    @Test(arguments: [1_000, 100_000])
    func deepYAMLIsRefused(depth: Int) {
        for text in [String(repeating: "[", count: depth) + String(repeating: "]", count: depth),
                     String(repeating: "- ", count: depth) + "x",
                     String(repeating: "{a: ", count: depth) + "1" + String(repeating: "}", count: depth)] {
            #expect(throws: LoadError.self) { try YAMLDocument.parse(text, file: "deep.yaml") }
        }
    }
}
