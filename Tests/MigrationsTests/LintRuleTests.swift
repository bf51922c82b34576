import Testing
@testable import Migrations

/// Each rule's triggering and non-triggering examples (SwiftLint style: the examples are the tests).
struct RuleExample: Sendable, CustomTestStringConvertible {
    var rule: String
    var triggers: String
    var passes: String
    var testDescription: String { rule }
}

@Suite struct LintRuleTests {
    static let examples: [RuleExample] = [
        .init(rule: "require-concurrent-index-creation", triggers: "CREATE INDEX i ON t (a);",
              passes: "CREATE TABLE t (a text); CREATE INDEX i ON t (a);"),
        .init(rule: "require-concurrent-index-deletion", triggers: "DROP INDEX i;", passes: "DROP INDEX CONCURRENTLY IF EXISTS i;"),
        .init(rule: "adding-not-nullable-field", triggers: "ALTER TABLE t ALTER COLUMN a SET NOT NULL;",
              passes: "ALTER TABLE t ADD CONSTRAINT a_nn CHECK (a IS NOT NULL) NOT VALID;"),
        .init(rule: "adding-required-field", triggers: "ALTER TABLE t ADD COLUMN b text NOT NULL;",
              passes: "ALTER TABLE t ADD COLUMN b text NOT NULL DEFAULT 'x';"),
        .init(rule: "adding-field-with-default", triggers: "ALTER TABLE t ADD COLUMN b uuid DEFAULT gen_random_uuid();",
              passes: "ALTER TABLE t ADD COLUMN b timestamptz DEFAULT now(); ALTER TABLE t ADD COLUMN c text DEFAULT 'a'::text;"),
        .init(rule: "changing-column-type", triggers: "ALTER TABLE t ALTER COLUMN a TYPE bigint;",
              passes: "CREATE TABLE t (a int); ALTER TABLE t ALTER COLUMN a TYPE bigint;"),
        .init(rule: "constraint-missing-not-valid", triggers: "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);",
              passes: "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;"),
        .init(rule: "adding-foreign-key-constraint", triggers: "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES u (id);",
              passes: "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES u (id) NOT VALID;"),
        .init(rule: "disallowed-unique-constraint", triggers: "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a);",
              passes: "ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX t_a;"),
        .init(rule: "ban-drop-column", triggers: "ALTER TABLE t DROP COLUMN a;", passes: "ALTER TABLE t ADD COLUMN a text;"),
        .init(rule: "ban-drop-table", triggers: "DROP TABLE t;", passes: "CREATE TABLE t (a text); DROP TABLE t;"),
        .init(rule: "ban-drop-database", triggers: "DROP DATABASE d;", passes: "SELECT 1;"),
        .init(rule: "renaming-column", triggers: "ALTER TABLE t RENAME COLUMN a TO b;", passes: "ALTER TABLE t ADD COLUMN b text;"),
        .init(rule: "renaming-table", triggers: "ALTER TABLE t RENAME TO u;", passes: "CREATE VIEW u AS SELECT 1;"),
        .init(rule: "prefer-robust-stmts", triggers: "CREATE INDEX CONCURRENTLY i ON t (a);",
              passes: "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);"),
        .init(rule: "require-timeout-settings", triggers: "ALTER TABLE t ADD COLUMN a text;",
              passes: "SET lock_timeout = '5s'; SET statement_timeout = '1min'; ALTER TABLE t ADD COLUMN a text;"),
        .init(rule: "ban-char-field", triggers: "CREATE TABLE t (a char(2));", passes: "CREATE TABLE t (a text);"),
        .init(rule: "prefer-bigint-over-int", triggers: "CREATE TABLE t (a integer);", passes: "CREATE TABLE t (a bigint);"),
        .init(rule: "prefer-text-field", triggers: "CREATE TABLE t (a varchar(20));", passes: "CREATE TABLE t (a text);"),
        .init(rule: "prefer-timestamptz", triggers: "CREATE TABLE t (a timestamp);", passes: "CREATE TABLE t (a timestamptz);"),
        .init(rule: "transaction-nesting", triggers: "BEGIN; CREATE TABLE t (a text); COMMIT;", passes: "CREATE TABLE t (a text);"),
        .init(rule: "ban-concurrent-index-creation-in-transaction", triggers: "BEGIN; CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a); COMMIT;",
              passes: "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);"),
    ]

    @Test(arguments: examples) func ruleTriggersOnlyOnItsExample(_ e: RuleExample) {
        let linter = Linter()
        let hits = linter.lint(sql: e.triggers, file: "t.sql").filter { $0.rule == e.rule }
        #expect(!hits.isEmpty, "\(e.rule) should trigger on: \(e.triggers)")
        let quiet = linter.lint(sql: e.passes, file: "p.sql").filter { $0.rule == e.rule }
        #expect(quiet.isEmpty, "\(e.rule) should not trigger on: \(e.passes) — got \(quiet)")
        let ignored = linter.lint(sql: "-- opsctl:ignore \(e.rule)\n" + e.triggers, file: "i.sql").filter { $0.rule == e.rule && $0.location.line == 2 && $0.location.column == 1 }
        if !e.triggers.hasPrefix("BEGIN") { #expect(ignored.isEmpty, "-- opsctl:ignore \(e.rule) should suppress it") }
    }

    @Test func everyStatementRuleHasAnExampleAndDocumentation() {
        let covered = Set(Self.examples.map(\.rule))
        for rule in LintRules.statementRules {
            #expect(covered.contains(rule.id), "no example for \(rule.id)")
            #expect(!rule.rationale.isEmpty && !rule.alternative.isEmpty)
        }
        #expect(Set(LintRules.catalog.map(\.id)).count == LintRules.catalog.count)
    }

    @Test func findingsCarryLineAndColumn() {
        let f = Linter().lint(sql: "SET lock_timeout = '1s';\nSET statement_timeout = '1s';\n\n  DROP INDEX i;\n", file: "004_x.sql")
        #expect(f.map(\.description) == ["004_x.sql:4:3: error: DROP INDEX without CONCURRENTLY [require-concurrent-index-deletion]"])
    }
}
