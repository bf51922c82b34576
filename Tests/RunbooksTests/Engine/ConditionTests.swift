import Checks
import Testing
@testable import Runbooks

@Suite("Conditions")
struct ConditionTests {
    static let values: [String: JSONValue] = [
        "params.mode": "full", "params.count": 3, "params.enabled": true, "steps.health.status": "fail",
        "steps.health.details.code": 503, "env.NODE_ENV": "production",
    ]

    @Test(arguments: [
        ("params.mode == 'full'", true),
        ("params.mode != 'full'", false),
        ("params.count > 2 && params.count <= 3", true),
        ("params.count >= 4 || params.enabled", true),
        ("!params.enabled", false),
        ("steps.health.status == 'fail' && steps.health.details.code == 503", true),
        ("${env.NODE_ENV} == \"production\"", true),
        ("(params.count < 1 || params.mode == 'full') && !(steps.health.status == 'ok')", true),
        ("params.missing", false),
        ("params.missing == null", true),
        ("params.count == '3'", true),
    ])
    func evaluates(source: String, expected: Bool) throws {
        let condition = try Condition(source)
        #expect(condition.evaluate { Self.values[$0] } == expected)
    }

    @Test(arguments: ["params.x ==", "(a", "'unclosed", "a @ b", "a == == b"])
    func rejectsBadSyntax(source: String) {
        #expect(throws: Condition.SyntaxError.self) { try Condition(source) }
    }
}

@Suite("Interpolation")
struct InterpolationTests {
    let scope = Scope(params: ["url": "http://x", "codes": [200, 204]], env: ["HOME": "/root"],
                      steps: ["a": StepResult(id: "a", title: "a", kind: "pause", status: .ok, message: "fine", details: ["n": 7])],
                      config: ["base_url": "http://svc"])

    @Test func wholeReferenceKeepsItsType() throws {
        #expect(try Interpolation.resolve("${params.codes}", in: scope) == [200, 204])
        #expect(try Interpolation.resolve("${steps.a.details.n}", in: scope) == 7)
    }

    @Test func embeddedReferencesBecomeText() throws {
        #expect(try Interpolation.resolve("${config.base_url}/api (home ${env.HOME}) ${steps.a.status}", in: scope) == "http://svc/api (home /root) ok")
        #expect(try Interpolation.resolve("${env.NOPE:-fallback}", in: scope) == "fallback")
    }

    @Test func missingValuesAreClearErrors() {
        #expect(throws: Interpolation.Failure.self) { try Interpolation.resolve("${env.NOPE}", in: scope) }
        #expect(throws: Interpolation.Failure.self) { try Interpolation.resolve("${steps.zz.status}", in: scope) }
        #expect(throws: Interpolation.Failure.self) { try Interpolation.resolve("a ${params.url", in: scope) }
    }

    /// The UTF-8 scanner reads references as Foundation's string search did: blanks (tabs, Unicode
    /// spaces) around the path are not part of it, the first `:-` starts the default, `$` alone is text.
    @Test func referencesAreScannedAsWritten() throws {
        #expect(Interpolation.referenceList(in: "$ {x} $$${ params.url\u{00A0}}:-${\tenv.HOME :-a:-b} ${unclosed") == [
            .init(path: "params.url", hasDefault: false), .init(path: "env.HOME", hasDefault: true),
        ])
        #expect(Interpolation.references(in: "€ ${params.é} ${config.base_url:-}") == ["params.é", "config.base_url"])
        #expect(try Interpolation.resolve("€${env.NOPE:-a:-b}$", in: scope) == "€a:-b$")
        #expect(try Interpolation.resolve("x ${ params.url } y", in: scope) == "x http://x y")
        #expect(try Interpolation.resolve("price $5 {x}", in: scope) == "price $5 {x}")
    }
}

/// Issue 12 item 7: nesting and size limits instead of a stack overflow.
@Suite("Condition limits")
struct ConditionLimitTests {
    @Test(arguments: [
        String(repeating: "(", count: 100_000) + "true" + String(repeating: ")", count: 100_000),
        String(repeating: "!", count: 100_000) + "true",
        String(repeating: "(", count: 65) + "true" + String(repeating: ")", count: 65),
        Array(repeating: "params.a == 1", count: 300).joined(separator: " && "),
    ])
    func deepOrHugeConditionsAreSyntaxErrors(source: String) {
        #expect(throws: Condition.SyntaxError.self) { try Condition(source) }
    }

    @Test func sixtyFourLevelsStillParse() throws {
        let source = String(repeating: "(", count: 64) + "params.a == 1" + String(repeating: ")", count: 64)
        #expect(try Condition(source).evaluate { _ in .int(1) })
    }

    @Test func hugeNumberLiteralsDoNotTrap() throws {
        let condition = try Condition("params.a < 99999999999999999999999999999")
        #expect(condition.evaluate { _ in .int(5) })
    }

    @Test func theLoaderReportsTheNestingLimitWithTheLine() throws {
        let deep = String(repeating: "(", count: 200) + "true" + String(repeating: ")", count: 200)
        let error = try #require(loadError("steps:\n  - id: a\n    kind: pause\n    when: \"\(deep)\"\n"))
        #expect(error.line == 4 && error.description.contains("deeper than 64"), "\(error)")
    }
}
