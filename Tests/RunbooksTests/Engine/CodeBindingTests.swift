import Checks
import Foundation
import Postgres
import Testing
import TestSupport
@testable import Runbooks

/// `${…}` in SQL and command lines is bound, never pasted in: hostile values stay values.
@Suite("Params reach SQL and shell as bound values")
struct CodeBindingTests {
    static let hostile = [
        "x' OR '1'='1",
        "$(touch pwned)",
        "`touch pwned`",
        "a; touch pwned",
        "line1\ntouch pwned",
        "\"; touch pwned; echo \"",
        "'; DROP TABLE t; --",
        "${HOME} $HOME \\ \\' é ✓",
    ]

    // MARK: SQL rewriting

    @Test("references become the next $n after params: and any $n written", arguments: [
        ("SELECT * FROM t WHERE x = ${params.p}", 0, "SELECT * FROM t WHERE x = $1"),
        ("SELECT * FROM t WHERE x = '${params.p}'", 0, "SELECT * FROM t WHERE x = $1"),
        ("SELECT $1::int + ${params.a} + ${params.b} + ${params.a}", 1, "SELECT $1::int + $2 + $3 + $2"),
        ("SELECT $3 WHERE y = ${params.a}", 1, "SELECT $3 WHERE y = $4"),
        ("SELECT ${params.a}", 2, "SELECT $3"),
        ("SELECT 'it''s' || ${params.a} -- ${params.a} stays in the comment", 0, "SELECT 'it''s' || $1 -- ${params.a} stays in the comment"),
        ("SELECT /* ${params.a} */ ${params.a}", 0, "SELECT /* ${params.a} */ $1"),
        ("SELECT E'\\'' || ${params.a}", 0, "SELECT E'\\'' || $1"),
    ])
    func sqlReferencesBecomePlaceholders(sql: String, existing: Int, expected: String) throws {
        let scope = Scope(params: ["p": "v", "a": 1, "b": 2])
        let bound = try CodeBinding.bindSQL(sql, existing: existing, scope: scope)
        #expect(bound.sql == expected)
        #expect(!bound.values.isEmpty)
    }

    @Test("a reference where no parameter can stand is refused at load time with its position", arguments: [
        ("SELECT * FROM t WHERE x = 'pre-${params.p}'", "string literal"),
        ("SELECT * FROM \"${params.p}\"", "quoted identifier"),
        ("DO $$ BEGIN PERFORM '${params.p}'; END $$", "dollar-quoted"),
        ("SELECT now() - interval '${params.p} days'", "string literal"),
    ])
    func unbindableReferencesAreRefused(sql: String, place: String) throws {
        let yaml = """
            name: t
            params: { p: { type: string, default: x } }
            steps:
              - id: q
                kind: sql.query
                with:
                  sql: "\(sql.replacingOccurrences(of: "\"", with: "\\\""))"
            """
        let error = try #require(loadError(yaml))
        #expect(error.message.contains(place), "\(error)")
        #expect(error.message.contains("${params.p}"))
        #expect(error.hint?.contains("params:") == true)
        #expect(error.line == 7)
        #expect(error.column > 1)
    }

    @Test func shippedRunbooksLoadUnderTheRule() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../runbooks").standardized.path
        let library = RunbookLibrary(directories: [dir])
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.hasSuffix(".yaml") {
            let required: [String: [String: JSONValue]] = ["logs.yaml": ["files": ["app.log"]], "backup-restore.yaml": ["file": "backup.dump"]]
            let params = required[name] ?? [:]
            do { _ = try RunbookLoader(library: library).load(dir + "/" + name, params: params) } catch {
                Issue.record("\(name): \(error)")
            }
        }
    }

    // MARK: SQL against the database

    @Test(.enabled(if: TestDatabase.available), arguments: hostile)
    func hostileValuesInSQLMatchNothingAndChangeNothing(value: String) throws {
        let url = try TestDatabase.fresh("bind_sql")
        let db = try PostgresConnection(dsn: url)
        defer { db.close() }
        try db.execute("CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, disabled bool NOT NULL DEFAULT false)")
        try db.execute("INSERT INTO accounts (id, name) VALUES (1, 'alice'), (2, 'bob')")
        let yaml = """
            name: t
            params: { p: { type: string } }
            steps:
              - id: unquoted
                kind: sql.exec
                with: { sql: "UPDATE accounts SET disabled = true WHERE name = ${params.p}" }
              - id: quoted
                kind: sql.exec
                with: { sql: "UPDATE accounts SET disabled = true WHERE name = '${params.p}' AND id > $1", params: [0] }
              - id: read
                kind: sql.query
                with: { sql: "SELECT count(*) AS n FROM accounts WHERE name = ${params.p} OR name = '${params.p}'", thresholds: { n: { crit: 1 } } }
            """
        let report = try execute(yaml, params: ["p": .string(value)]) { options in
            options.confirm = "yes"
            options.processEnvironment = ["DATABASE_URL": url]
        }
        for id in ["unquoted", "quoted"] {
            let result = try #require(report.result(id))
            #expect(result.status == .ok, "\(id): \(result.message)")
            #expect(result.details["rows"] == .int(0), "\(id) updated rows with p=\(value)")
        }
        #expect(report.result("read")?.status == .ok, "\(report.result("read")?.message ?? "")")
        #expect(try db.query("SELECT count(*) AS n FROM accounts WHERE disabled").first?["n"].int == 0)
        #expect(try db.query("SELECT count(*) AS n FROM accounts").first?["n"].int == 2)
    }

    @Test(.enabled(if: TestDatabase.available))
    func aBoundValueStillSelectsItsRow() throws {
        let url = try TestDatabase.fresh("bind_sql_ok")
        let db = try PostgresConnection(dsn: url)
        defer { db.close() }
        try db.execute("CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, disabled bool NOT NULL DEFAULT false)")
        try db.execute("INSERT INTO accounts (id, name) VALUES (1, 'o''brien'), (2, 'bob')")
        let yaml = """
            name: t
            params: { p: { type: string }, days: { type: int, default: 3 } }
            steps:
              - id: one
                kind: sql.exec
                with:
                  sql: UPDATE accounts SET disabled = true WHERE name = ${params.p} AND now() > now() - make_interval(days => ${params.days}::int)
              - id: each
                kind: sql.query
                for_each: ["o'brien", "bob"]
                with: { sql: "SELECT count(*) AS n FROM accounts WHERE name = ${item}", expect_rows: 1, message: "{n}" }
            """
        let report = try execute(yaml, params: ["p": "o'brien"]) { options in
            options.confirm = "yes"
            options.processEnvironment = ["DATABASE_URL": url]
        }
        #expect(report.result("one")?.details["rows"] == .int(1), "\(report.result("one")?.message ?? "")")
        #expect(report.results.filter { $0.id.hasPrefix("each") }.map(\.message) == ["1", "1"])
    }

    // MARK: Shell

    @Test(arguments: hostile)
    func hostileValuesInCommandsAreDataNotCode(value: String) throws {
        let dir = TemporaryDirectory()
        let yaml = """
            name: t
            params: { p: { type: string } }
            steps:
              - id: bare
                kind: shell
                with: { command: "printf '%s|' ${params.p} > bare.out", cwd: "\(dir.path)" }
              - id: double
                kind: shell
                with: { command: "printf '%s' \\"v=${params.p}\\" > double.out", cwd: "\(dir.path)" }
              - id: single
                kind: shell
                with: { command: "printf '%s' 'v=${params.p}' > single.out", cwd: "\(dir.path)" }
              - id: variable
                kind: shell
                with: { command: "printf '%s' \\"$OPSCTL_PARAM_P\\" > variable.out", cwd: "\(dir.path)" }
            """
        let report = try execute(yaml, params: ["p": .string(value)]) { $0.confirm = "yes" }
        for result in report.results { #expect(result.status == .ok, "\(result.id): \(result.message)") }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/pwned"), "value \(value) ran as code")
        func read(_ name: String) -> String? { try? String(contentsOfFile: dir.path + "/" + name, encoding: .utf8) }
        #expect(read("bare.out") == value + "|", "an unquoted reference is one quoted word")
        #expect(read("double.out") == "v=" + value)
        #expect(read("single.out") == "v=" + value)
        #expect(read("variable.out") == value)
    }

    @Test func forEachItemsReachCommandsAsVariables() throws {
        let dir = TemporaryDirectory()
        let yaml = """
            name: t
            steps:
              - id: each
                kind: shell
                for_each: ["$(touch pwned)", "a'b", "`touch pwned`"]
                with: { command: "printf '%s\\n' ${item} >> items.out", cwd: "\(dir.path)" }
            """
        let report = try execute(yaml) { $0.confirm = "yes" }
        #expect(report.results.count == 3)
        for result in report.results { #expect(result.status == .ok, "\(result.id): \(result.message)") }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/pwned"))
        // Items run in parallel: compare the lines, not their order.
        let lines = (try? String(contentsOfFile: dir.path + "/items.out", encoding: .utf8))?.split(separator: "\n").map(String.init)
        #expect(lines?.sorted() == ["$(touch pwned)", "`touch pwned`", "a'b"].sorted())
    }

    @Test func dryRunPlanShowsTheVariableNotASplicedCommand() throws {
        let yaml = """
            name: t
            params: { backup: { type: string } }
            steps:
              - { id: restore, kind: shell, with: { command: "pg_restore -d x \\"${params.backup}\\"" } }
            """
        let report = try execute(yaml, params: ["backup": "/x$(touch pwned).dump"]) { $0.dryRun = true }
        let plan = report.result("restore")?.details["plan"]?.string ?? ""
        #expect(plan.contains("would run: pg_restore -d x \"${OPSCTL_PARAM_BACKUP}\""), "\(plan)")
        #expect(plan.contains("OPSCTL_PARAM_BACKUP=/x$(touch pwned).dump"))
    }

    @Test("variable names", arguments: [
        ("params.backup", "OPSCTL_PARAM_BACKUP"), ("params.log-dir:-x", "OPSCTL_PARAM_LOG_DIR"),
        ("steps.plan.details.file", "OPSCTL_STEPS_PLAN_DETAILS_FILE"), ("item", "OPSCTL_ITEM"), ("config.base_url", "OPSCTL_CONFIG_BASE_URL"),
    ])
    func variableNames(expression: String, name: String) {
        #expect(CodeBinding.variableName(expression) == name)
    }
}
