import Foundation
import Testing
@testable import Checks

/// `env.validate`: every rule, and the promise that a value never appears in what it reports.
@Suite("env.validate")
struct EnvValidateTests {
    @Test(arguments: [
        (nil, ["required": JSONValue.bool(true)], "is not set"),
        ("", ["required": .bool(true)], "is not set"),
        ("prod_123", ["pattern": .string("^app_")], "does not match /^app_/"),
        ("tiny1", ["min_length": .int(16)], "is shorter than 16 characters (5)"),
        ("changeme", ["not_placeholder": .bool(true)], "looks like a placeholder"),
        ("your-api-key-here", ["not_placeholder": .bool(true)], "looks like a placeholder"),
        ("aaaaaaaaaaaaaaaa", ["not_placeholder": .bool(true)], "looks like a placeholder"),
        ("not a url", ["url": .bool(true)], "is not a well-formed URL"),
        ("mysql://db.internal/app", ["scheme": .string("postgresql")], "has scheme mysql, expected postgresql"),
        ("70000", ["int_min": .int(1), "int_max": .int(65535)], "is above 65535"),
        ("eighty", ["int_min": .int(1)], "is not an integer"),
        ("c2hvcnQ=", ["base64_bytes": .int(32)], "decodes to 5 bytes, expected 32"),
        ("!!!", ["base64_bytes": .int(32)], "is not valid base64"),
        ("staging", ["equals": .string("production")], "is not 'production'"),
        ("qa", ["one_of": .array([.string("development"), .string("production")])], "is not one of development, production"),
    ] as [(String?, [String: JSONValue], String)])
    func eachRuleNamesWhatIsWrong(value: String?, rule: [String: JSONValue], problem: String) {
        let problems = EnvValidate.problems(value, rule)
        #expect(problems.contains(problem), "\(problems)")
        if let value, value.count > 3 {
            #expect(!problems.joined().contains(value), "a value must never be reported")
        }
    }

    @Test(arguments: [
        ("app_4f9a8b7c6d5e", ["required": JSONValue.bool(true), "pattern": .string("^app_"), "min_length": .int(8)]),
        ("postgresql://app@db.internal:5432/churn", ["scheme": .array([.string("postgres"), .string("postgresql")])]),
        ("postgresql:///churn?host=/var/run/postgresql", ["url": .bool(true)]),
        ("8080", ["int_min": .int(1), "int_max": .int(65535)]),
        ("zJ1cV8bq9YkP2mWn0aT3eR6uH5iG4oL7xS1dF2gH3jA=", ["base64_bytes": .int(32)]),
        ("production", ["one_of": .array([.string("development"), .string("production")])]),
    ] as [(String, [String: JSONValue])])
    func validValuesPass(value: String, rule: [String: JSONValue]) {
        #expect(EnvValidate.problems(value, rule).isEmpty)
    }

    @Test func anOptionalVariableMayBeAbsent() {
        #expect(EnvValidate.problems(nil, ["pattern": .string("^app_")]).isEmpty)
    }

    @Test func theStepFailsListingTheVariablesNotTheirValues() throws {
        let secret = "sk_live_do_not_print_4f9a8b7c"
        let kind = try EnvValidate(StepParameters(["rules": .object([
            "API_KEY": .object(["required": .bool(true), "pattern": .string("^whop_")]),
            "NODE_ENV": .object(["one_of": .array([.string("production")])]),
            "MISSING": .object(["required": .bool(true)]),
        ])], stepID: "environment"))
        let outcome = try kind.run(StepContext(environment: ["API_KEY": secret, "NODE_ENV": "production"]))
        #expect(outcome.status == .fail)
        #expect(outcome.message.contains("API_KEY does not match /^whop_/"))
        #expect(outcome.message.contains("MISSING is not set"))
        #expect(!outcome.message.contains("NODE_ENV"))
        #expect(!outcome.message.contains(secret) && !outcome.details.values.map(\.jsonText).joined().contains(secret))
        #expect(outcome.details["NODE_ENV"] == .string("ok"))
        #expect(outcome.metrics.first { $0.name == "invalid_variables" }?.value == 2)
    }

    @Test func aRuleThatIsNotAMappingIsRefusedWhenTheRunbookLoads() {
        let error = #expect(throws: StepError.self) {
            try EnvValidate(StepParameters(["rules": .object(["API_KEY": .string("required")])], stepID: "environment"))
        }
        #expect(error?.description.contains("rules.API_KEY must be a mapping") == true)
    }
}
