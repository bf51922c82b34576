import Foundation
import Testing
import Support
@testable import Migrations

/// Our lint agrees with squawk (PyPI `squawk-cli`) on a shared corpus, rule by rule, except for
/// the documented differences below. Runs when a `squawk` binary is found (SQUAWK=path, or on PATH).
@Suite(.enabled(if: Squawk.path != nil)) struct SquawkComparisonTests {
    /// squawk names -> ours.
    static let renamed = ["prefer-timestamp-tz": "prefer-timestamptz",
                          "require-lock-timeout": "require-timeout-settings",
                          "require-statement-timeout": "require-timeout-settings"]

    /// Where we disagree on purpose: (file, rule) -> why.
    static let differences: [String: String] = [
        // Postgres cannot add a UNIQUE constraint NOT VALID; disallowed-unique-constraint says what to do instead.
        "12.sql constraint-missing-not-valid": "squawk only",
        // Without --assume-in-transaction squawk does not look for BEGIN; we report the explicit BEGIN/COMMIT.
        "28.sql transaction-nesting": "opsctl only",
    ]

    @Test func lintAgreesWithSquawkOnTheSharedCorpus() throws {
        let corpus = Fixtures.root + "/squawk-corpus"
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.count >= 25)
        let ours = Set(LintRules.statementRules.map(\.id))
        var disagreements: [String] = []
        for file in files {
            let path = corpus + "/" + file
            let sql = try String(contentsOfFile: path, encoding: .utf8)
            let script = try SQLParser.parse(sql, file: file)
            // Files our runner executes in a transaction are checked the way squawk checks them with --assume-in-transaction.
            let transactional = !script.statements.contains { TransactionSafety.reason($0) != nil }
            let out = try ProcessRunner.run([Squawk.path!, "--reporter", "json"] + (transactional ? ["--assume-in-transaction"] : []) + [path], timeout: 30)
            let json = try #require(JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]], "squawk output: \(out.stdout) \(out.stderr)")
            let theirs = Set(json.compactMap { $0["rule_name"] as? String }.map { Self.renamed[$0] ?? $0 }.filter(ours.contains))
            let mine = Set(Linter().lint(sql: sql, file: file).map(\.rule).filter(ours.contains))
            for rule in theirs.symmetricDifference(mine) where Self.differences["\(file) \(rule)"] == nil {
                disagreements.append("\(file) \(rule): \(mine.contains(rule) ? "opsctl only" : "squawk only") — \(sql.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.joined(separator: "\n"))")
    }
}

enum Squawk {
    static let path: String? = {
        if let path = ProcessInfo.processInfo.environment["SQUAWK"], FileManager.default.isExecutableFile(atPath: path) { return path }
        return ProcessRunner.which("squawk", extraDirectories: ["/tmp/squawkenv/bin"])
    }()
}
