import Foundation
import Testing
import Support
@testable import Migrations

/// Our lint agrees with squawk (PyPI `squawk-cli`) on a shared corpus, rule by rule, except for
/// the documented differences below. Needs a `squawk` binary (SQUAWK=path, on PATH, or in Python's scripts
/// directory; `make test` installs it): skipped with the install hint without one, except with CI=true,
/// where a missing squawk is a failure.
@Suite(.enabled(if: Squawk.shouldRun, "squawk missing: python3 -m pip install squawk-cli")) struct SquawkComparisonTests {
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
        let squawk = try #require(Squawk.path, "squawk is required with CI=true: python3 -m pip install squawk-cli (scripts/install-deps.sh does)")
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
            let out = try ProcessRunner.run([squawk, "--reporter", "json"] + (transactional ? ["--assume-in-transaction"] : []) + [path], timeout: 30)
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
        // pip puts the command in the interpreter's scripts directory, which need not be on PATH.
        let scripts = (try? ProcessRunner.run(["python3", "-c", "import sysconfig; print(sysconfig.get_path('scripts'))"], timeout: 30))?
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return ProcessRunner.which("squawk", extraDirectories: [scripts, "/tmp/squawkenv/bin"].compactMap { $0 })
    }()

    /// Whether the cross-check runs: with squawk installed, and always with CI=true (then a missing squawk fails it).
    static var shouldRun: Bool {
        if ProcessInfo.processInfo.environment["CI"] == "true" { return true }
        if path == nil { FileHandle.standardError.write(Data("SKIPPED squawk cross-check: python3 -m pip install squawk-cli\n".utf8)) }
        return path != nil
    }
}
