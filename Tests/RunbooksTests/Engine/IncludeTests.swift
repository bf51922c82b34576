import Checks
import Foundation
import Testing
import TestSupport
@testable import Runbooks

/// `- include: NAME`: a fragment's steps spliced into the including runbook (issue 14: the generic
/// verbs include the profile's service-metrics, service-invariants, service-checks…).
@Suite("include: fragments")
struct IncludeTests {
    let directory = TemporaryDirectory()

    func write(_ name: String, _ yaml: String) throws {
        _ = try directory.write(name + ".yaml", yaml)
    }

    func load(_ yaml: String, params: [String: JSONValue] = [:]) throws -> Runbook {
        try loadRunbook(yaml, params: params, directory: directory.path)
    }

    func run(_ runbook: Runbook) -> RunReport {
        Executor(runbook: runbook, options: RunOptions(environment: EnvironmentConfig(name: "local"), params: runbook.values),
                 reporter: nil, journal: nil).run()
    }

    static let parent = """
        name: parent
        params:
          window: { type: string, default: 15 minutes }
          mode: { type: string, default: check }
        steps:
          - id: first
            kind: shell
            with: { command: "true", readonly: true }
          - include: metrics
            with: { window: "${params.window}" }
            needs: first
            when: params.mode == 'check'
        """

    /// A profile without log tables: the shipped default fragment has no steps, and the verb still
    /// reports its own steps, green, with nothing about the empty fragment.
    @Test func aZeroStepFragmentAddsNothingAndRunsClean() throws {
        try write("metrics", "name: metrics\nparams:\n  window: { type: string, default: 1 hour }\nsteps: []\n")
        let runbook = try load(Self.parent)
        #expect(runbook.steps.map(\.id) == ["first"])
        let report = run(runbook)
        #expect(report.status == .ok)
        #expect(report.results.map(\.id) == ["first"])
        // A fragment run on its own (opsctl run service-metrics) is a valid, empty run.
        let alone = run(try loadRunbook("name: metrics\nsteps: []\n"))
        #expect(alone.status == .ok && alone.results.isEmpty)
    }

    /// Included steps are steps of the runbook: own ids, the fragment's params, the include's needs
    /// and when, and their own remediation in the report.
    @Test func includedStepsRunWithTheFragmentsParamsAndTheIncludesNeedsAndWhen() throws {
        try write("metrics", """
            name: metrics
            params:
              window: { type: string, default: 1 hour }
            steps:
              - id: window-seen
                kind: shell
                with: { command: 'test "$OPSCTL_PARAM_WINDOW" = "15 minutes"', readonly: true }
                remediation: the window was ${params.window}
              - id: after
                kind: shell
                needs: window-seen
                with: { command: "true", readonly: true }
            """)
        let runbook = try load(Self.parent)
        #expect(runbook.steps.map(\.id) == ["first", "window-seen", "after"])
        #expect(runbook.step("window-seen")?.needs == ["first"])
        #expect(runbook.step("after")?.needs == ["first", "window-seen"])
        let report = run(runbook)
        #expect(report.status == .ok, "\(report.results.map { "\($0.id): \($0.status) \($0.message)" })")
        #expect(report.result("window-seen")?.status == .ok)

        // A when: on params alone is decided at load: the fragment is left out, not reported skipped.
        let left = try load(Self.parent, params: ["mode": "fix"])
        #expect(left.steps.map(\.id) == ["first"])
        // One that reads a step's result is and-ed with each included step's own when: at run time.
        let atRunTime = Self.parent.replacingOccurrences(of: "when: params.mode == 'check'", with: "when: steps.first.status == 'fail'")
        let skipped = run(try load(atRunTime))
        #expect(skipped.result("window-seen")?.status == .skipped)
        #expect(skipped.result("window-seen")?.message.contains("steps.first.status == 'fail'") == true, "\(skipped.results)")

        let other = run(try load(Self.parent, params: ["window": "2 hours"]))
        #expect(other.result("window-seen")?.status == .fail)
        #expect(other.result("window-seen")?.remediation == "the window was 2 hours")
    }

    /// A fragment that does not declare a param its includer passes: which param, which runbook, which includer.
    @Test func aFragmentMissingAPassedParamIsNamed() throws {
        try write("metrics", "name: metrics\nsteps: []\n")
        do {
            _ = try load(Self.parent)
            Issue.record("loaded without the declared param")
        } catch let error as LoadError {
            #expect(error.message.contains("runbook 'metrics'") && error.message.contains("does not declare param 'window'")
                    && error.message.contains("'test' passes"), "\(error)")
            #expect(error.line == 9, "\(error)")
        }
    }

    /// A fragment broken in another way says that first, not only that a param is missing.
    @Test func aBrokenFragmentMissingAPassedParamSaysWhatIsBroken() throws {
        try write("metrics", "name: metrics\nsteps:\n  - id: rows\n    kind: no.such.kind\n")
        do {
            _ = try load(Self.parent)
            Issue.record("loaded a fragment with an unknown kind")
        } catch let error as LoadError {
            #expect(error.message.contains("unknown kind 'no.such.kind'") && error.file.hasSuffix("metrics.yaml"), "\(error)")
            #expect(error.line == 4, "\(error)")
        }
    }

    /// Each document is parsed once per process (ParsedDocuments), keyed by its text: a fragment
    /// rewritten between two loads is read as it is now, params and steps.
    @Test func aFragmentChangedBetweenLoadsIsReadAsItIsNow() throws {
        try write("metrics", "name: metrics\nparams:\n  window: { type: string }\nsteps: []\n")
        #expect(try load(Self.parent).steps.map(\.id) == ["first"])
        try write("metrics", """
            name: metrics
            params:
              window: { type: string }
            steps:
              - id: rows
                kind: shell
                with: { command: "echo ${params.window}", readonly: true }
            """)
        let runbook = try load(Self.parent)
        #expect(runbook.steps.map(\.id) == ["first", "rows"])
        #expect(runbook.steps.last?.scopeParams?["window"] == "15 minutes")
    }

    @Test func aClashingStepIDPointsAtTheInclude() throws {
        try write("metrics", "name: metrics\nparams:\n  window: { type: string }\nsteps:\n  - id: first\n    kind: shell\n    with: { command: \"true\" }\n")
        do {
            _ = try load(Self.parent)
            Issue.record("loaded with a duplicate id")
        } catch let error as LoadError {
            #expect(error.message.contains("duplicate step id 'first'"), "\(error)")
            #expect(error.line == 9)
        }
    }

    @Test func unknownKeysAndMissingFragmentsAreLocated() throws {
        let typo = Self.parent.replacingOccurrences(of: "    needs: first", with: "    need: first")
        #expect(throws: LoadError.self) { try load(typo) }
        do {
            _ = try load(Self.parent)
            Issue.record("loaded without the fragment")
        } catch let error as LoadError {
            #expect(error.message.contains("include 'metrics'") && error.message.contains("no runbook named 'metrics'"), "\(error)")
        }
    }

    /// `needs: X` of a `for_each` step X waits for every step it expanded to — none for an empty list.
    @Test func needsOfAForEachStepMeansAllItsExpansions() throws {
        let yaml = """
            name: fan
            params:
              urls: { type: list, default: [] }
            steps:
              - id: health
                kind: shell
                for_each: ${params.urls}
                with: { command: "true", readonly: true }
              - id: after
                kind: shell
                needs: health
                with: { command: "true", readonly: true }
            """
        #expect(try load(yaml, params: ["urls": ["a", "b"]]).step("after")?.needs == ["health-1", "health-2"])
        #expect(try load(yaml, params: ["urls": ["a"]]).step("after")?.needs == ["health"])
        #expect(try load(yaml).step("after")?.needs == [])
    }

    /// `for_each: ${config.service.health}` expands at load time over the environment's endpoints.
    @Test func forEachOverTheConfiguredEndpoints() throws {
        var loader = RunbookLoader(library: RunbookLibrary(directories: []))
        loader.config = .object(["service": .object(["health": .array([
            .object(["path": "/healthz", "expect_status": .array([204]), "expect": .object([:])]),
            .object(["path": "/ready", "expect_status": .array([200]), "expect": .object(["ok": true]), "latency_crit": "5s"]),
        ])])])
        let runbook = try loader.parse("""
            name: endpoints
            steps:
              - id: health
                title: ${item.path}
                kind: http.request
                for_each: ${config.service.health}
                with: { url: "${item.path}", expect_status: "${item.expect_status}", expect: "${item.expect}", latency_crit: "${item.latency_crit:-2s}" }
            """, file: "t.yaml")
        #expect(runbook.steps.map(\.title) == ["/healthz", "/ready"])
        #expect(runbook.steps[0].with["expect_status"] == .array([204]))
        #expect(runbook.steps[0].with["latency_crit"] == "2s")
        #expect(runbook.steps[1].with["latency_crit"] == "5s")
        #expect(runbook.steps[1].with["expect"] == .object(["ok": true]))
    }
}
