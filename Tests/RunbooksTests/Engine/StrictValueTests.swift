import Checks
import Foundation
import Support
import Testing
@testable import Runbooks

/// Issue 12 items 2 and 7: every boolean, enum, number and duration of opsctl.yaml and of runbooks is
/// checked where it is written (file:line:col, exit 65), instead of turning into a default or a trap.
@Suite("Strict config and runbook values")
struct StrictValueTests {
    static func configError(_ yaml: String) -> LoadError? {
        do { _ = try Config.parse(yaml, file: "/tmp/opsctl.yaml"); return nil } catch let e as LoadError { return e } catch {
            return LoadError(file: "?", message: "unexpected error type: \(error)")
        }
    }

    @Test("protected must be true or false", arguments: ["enabled", "maybe", "2", "[production]", "yes", "\"true\"", "1", "on", "~"])
    func protectedRejectsAnythingButABoolean(value: String) throws {
        let error = try #require(Self.configError("environments:\n  production:\n    protected: \(value)\n"))
        #expect(error.line == 3 && error.column == 16, "\(error)")
        #expect(error.description.contains("protected") && error.description.contains("true or false"), "\(error)")
    }

    @Test func protectedTrueAndFalseStillWork() throws {
        let config = try Config.parse("environments:\n  production: { protected: true }\n  staging: { protected: false }\n  local: {}\n", file: "/tmp/opsctl.yaml")
        #expect(config.environments["production"]?.protected == true)
        #expect(config.environments["staging"]?.protected == false)
        #expect(config.environments["local"]?.protected == false)
    }

    @Test("every other config value is typed", arguments: [
        ("    webhook: { scheme: hmac }\n", "scheme"),
        ("    webhook: { schema: whop }\n", "unknown key 'schema'"),
        ("    webhook: whop\n", "must be a mapping"),
        ("    base_url: [a]\n", "must be text"),
        ("    database_url_env: { a: b }\n", "must be text"),
        ("    secrets: WHOP_API_KEY\n", "must be a list"),
        ("    secrets: [[a]]\n", "must be text"),
        ("    env: [a]\n", "must be a mapping"),
        ("    migrations: { dir: [a] }\n", "must be text"),
        ("    migrations: { directory: db }\n", "unknown key 'directory'"),
        ("    thresholds: { p95: [1] }\n", "threshold 'p95'"),
        ("    rollback_command: { a: 1 }\n", "must be text"),
        ("    required_extensions: pgcrypto\n", "must be a list"),
        ("    env_rules: { X: { required: yes } }\n", "true or false"),
        ("    env_rules: { X: { min_length: 99999999999999999999 } }\n", "whole number"),
        ("    env_rules: { X: { min_lenght: 3 } }\n", "did you mean 'min_length'"),
    ])
    func configValuesAreTyped(line: String, expected: String) throws {
        let error = try #require(Self.configError("environments:\n  production:\n\(line)"))
        #expect(error.line == 3, "\(error)")
        #expect(error.description.contains(expected), "\(error)")
    }

    @Test func defaultEnvironmentMustBeText() throws {
        let error = try #require(Self.configError("default_environment: [a]\nenvironments:\n  a: {}\n"))
        #expect(error.line == 1 && error.description.contains("must be text"), "\(error)")
    }

    @Test("step booleans accept only true or false", arguments: ["always", "continue_on_failure", "confirm"])
    func stepBooleans(key: String) throws {
        for value in ["yes", "2", "enabled", "'true'", "[x]"] {
            let error = try #require(loadError("steps:\n  - id: a\n    kind: pause\n    \(key): \(value)\n"), "\(key): \(value)")
            #expect(error.line == 4, "\(error)")
            #expect(error.description.contains("true or false"), "\(error)")
        }
        #expect(loadError("steps:\n  - id: a\n    kind: pause\n    \(key): true\n") == nil)
    }

    @Test func boolParametersOfKindsAreStrict() throws {
        let error = try #require(loadError("steps:\n  - id: a\n    kind: shell\n    with: { command: 'true', readonly: yes }\n"))
        #expect(error.line == 4 && error.description.contains("readonly"), "\(error)")
        #expect(loadError("steps:\n  - id: a\n    kind: shell\n    with: { command: 'true', readonly: 2 }\n") != nil)
        #expect(loadError("steps:\n  - id: a\n    kind: shell\n    with: { command: 'true', readonly: true }\n") == nil)
    }

    @Test func paramRequiredIsABoolean() throws {
        let error = try #require(loadError("params:\n  x: { type: string, required: maybe }\nsteps:\n  - { id: a, kind: pause }\n"))
        #expect(error.line == 2 && error.description.contains("true or false"), "\(error)")
    }

    @Test("numbers out of range are load errors, not traps", arguments: [
        ("    retry: { attempts: 99999999999999999999 }\n", "retry.attempts"),
        ("    retry: 99999999999999999999\n", "retry"),
        ("    retry: { attempts: 1e19 }\n", "retry.attempts"),
        ("    retry: { backoff: 1e400 }\n", "retry.backoff"),
        ("    timeout: 9999999999999999999999h\n", "366 days"),
        ("    timeout: -5s\n", "timeout"),
    ])
    func stepNumbers(line: String, expected: String) throws {
        let error = try #require(loadError("steps:\n  - id: a\n    kind: pause\n\(line)"))
        #expect(error.line == 4, "\(error)")
        #expect(error.description.contains(expected), "\(error)")
    }

    @Test("kind parameters are checked at load time", arguments: [
        ("kind: sql.query", "with: { sql: 'SELECT 1', max_rows: 99999999999999999999 }", "max_rows"),
        ("kind: sql.query", "with: { sql: 'SELECT 1', expect_rows: 1e19 }", "expect_rows"),
        ("kind: sql.exec", "with: { sql: 'DELETE FROM t', max_rows: 1e19 }", "max_rows"),
        ("kind: sql.query", "with: { sql: 'SELECT 1', statement_timeout: 9999999999999999999999h }", "statement_timeout"),
        ("kind: pause", "with: { duration: 9999999999999999999999h }", "duration"),
        ("kind: pause", "with: { duration: -1 }", "duration"),
        ("kind: webhooks.replay", "with: { rate: 1e19/s }", "rate"),
    ])
    func kindParameters(kind: String, with: String, expected: String) throws {
        let error = try #require(loadError("steps:\n  - id: a\n    \(kind)\n    \(with)\n"))
        #expect(error.line == 4, "\(error)")
        #expect(error.description.contains(expected), "\(error)")
    }

    @Test func aParamWithAHugeIntegerIsRefusedAtBinding() throws {
        let error = try #require(loadError("params:\n  n: { type: int }\nsteps:\n  - { id: a, kind: pause }\n", params: ["n": "99999999999999999999"]))
        #expect(error.description.contains("param 'n' must be int"), "\(error)")
        #expect(loadError("params:\n  d: { type: duration }\nsteps:\n  - { id: a, kind: pause }\n", params: ["d": "-1s"]) != nil)
    }

    @Test func jsonNumbersConvertWithoutTrapping() {
        #expect(JSONValue.double(1e19).int == nil)
        #expect(JSONValue.double(-1e19).int == nil)
        #expect(JSONValue.double(.infinity).int == nil)
        #expect(JSONValue.double(.nan).int == nil)
        #expect(JSONValue.double(2.5).int == nil)
        #expect(JSONValue.double(42).int == 42)
        #expect(JSONValue.string("nan").double == nil)
        #expect(JSONValue.string("inf").double == nil)
        #expect(JSONValue.string("1e400").double == nil)
        #expect(JSONValue.string("1.5").double == 1.5)
    }
}
