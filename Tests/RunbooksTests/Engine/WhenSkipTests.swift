import Checks
import Foundation
import Testing
@testable import Runbooks

/// A step skipped by its `when:` did not produce anything: the steps that need it are skipped too
/// (blocked_by), unless they declare `if_needs_skipped: run`.
@Suite("When-skipped needs")
struct WhenSkipTests {
    @Test func aChainBehindAWhenSkippedStepIsBlocked() throws {
        let report = try execute("""
            params: { enabled: false }
            steps:
              - { id: a, kind: pause, when: params.enabled }
              - { id: b, kind: pause, needs: a }
              - { id: c, kind: pause, needs: b }
              - { id: other, kind: pause }
            """)
        #expect(report.result("a")?.status == .skipped)
        #expect(report.result("a")?.message == "condition not met: params.enabled")
        #expect(report.result("a")?.blockedBy == nil)
        #expect(report.result("b")?.status == .skipped)
        #expect(report.result("b")?.blockedBy == ["a"])
        #expect(report.result("c")?.status == .skipped)
        #expect(report.result("c")?.blockedBy == ["b"])
        #expect(report.result("other")?.status == .ok)
        #expect(report.status == .ok, "skipped steps do not fail the run")
    }

    @Test func aDependentThatOptsOutRunsAnyway() throws {
        let report = try execute("""
            params: { enabled: false }
            steps:
              - { id: a, kind: pause, when: params.enabled }
              - { id: b, kind: pause, needs: a, if_needs_skipped: run }
              - { id: c, kind: pause, needs: b }
            """)
        #expect(report.result("a")?.status == .skipped)
        #expect(report.result("b")?.status == .ok)
        #expect(report.result("c")?.status == .ok)
    }

    /// The opt-out covers needs skipped by `when:`, never a failure upstream.
    @Test func theOptOutDoesNotRunPastAFailure() throws {
        let report = try execute("""
            steps:
              - { id: broken, kind: shell, with: { command: "exit 1", readonly: true } }
              - { id: b, kind: pause, needs: broken, if_needs_skipped: run }
            """)
        #expect(report.result("b")?.status == .skipped)
        #expect(report.result("b")?.blockedBy == ["broken"])
    }

    @Test func aRunningNeedLetsTheDependentRun() throws {
        let report = try execute("""
            params: { enabled: true }
            steps:
              - { id: a, kind: pause, when: params.enabled }
              - { id: b, kind: pause, needs: a }
            """)
        #expect(report.result("a")?.status == .ok)
        #expect(report.result("b")?.status == .ok)
    }

    /// A dry run skips a mutating step but shows what it would do; its dependents still dry-run,
    /// so the plan of the whole runbook is visible.
    @Test func dependentsOfADryRunSkippedStepStillDryRun() throws {
        let report = try execute("""
            steps:
              - { id: change, kind: shell, with: { command: "echo changed" } }
              - { id: after, kind: shell, needs: change, with: { command: "echo after" } }
              - { id: check, kind: shell, needs: after, with: { command: "echo checked", readonly: true } }
            """) { $0.dryRun = true }
        #expect(report.result("change")?.status == .skipped)
        #expect(report.result("change")?.details["dry_run"] == .bool(true))
        #expect(report.result("after")?.details["dry_run"] == .bool(true))
        #expect(report.result("after")?.blockedBy == nil)
        #expect(report.result("check")?.status == .ok)
    }

    @Test func alwaysStepsRunAfterAWhenSkippedNeed() throws {
        let report = try execute("""
            params: { enabled: false }
            steps:
              - { id: a, kind: pause, when: params.enabled }
              - { id: cleanup, kind: pause, needs: a, always: true }
            """)
        #expect(report.result("cleanup")?.status == .ok)
    }

    @Test func theLoaderChecksTheValue() throws {
        let error = try #require(loadError("""
            steps:
              - { id: a, kind: pause }
              - { id: b, kind: pause, needs: a, if_needs_skipped: always }
            """))
        #expect(error.line == 3)
        #expect(error.message.contains("'if_needs_skipped' of step 'b' must be skip or run"))
    }

    @Test func titlesAreInterpolated() throws {
        let report = try execute("""
            params: { batch: 500 }
            steps:
              - { id: a, kind: pause, title: "delete in batches of ${params.batch}" }
              - { id: b, kind: pause, needs: a, title: "after ${steps.a.status}" }
              - { id: c, kind: pause, title: "missing ${env.OPSCTL_TEST_UNSET_VARIABLE:-default}" }
            """)
        #expect(report.result("a")?.title == "delete in batches of 500")
        #expect(report.result("b")?.title == "after ok")
        #expect(report.result("c")?.title == "missing default")
    }
}

@Suite("Scheduler")
struct SchedulerTests {
    /// A regular step that needs a cleanup step does not wait forever for "every regular step done".
    @Test func aStepThatNeedsAnAlwaysStepStillRuns() throws {
        let report = try execute("""
            steps:
              - { id: cleanup, kind: pause, always: true }
              - { id: after, kind: pause, needs: cleanup }
            """)
        #expect(report.result("cleanup")?.status == .ok)
        #expect(report.result("after")?.status == .ok)
    }

    /// Ready steps start in runbook order, whatever order their needs finished in.
    @Test func readyStepsStartInRunbookOrder() throws {
        let report = try execute("""
            steps:
              - { id: a, kind: pause }
              - { id: b, kind: pause, needs: a }
              - { id: c, kind: pause }
              - { id: d, kind: pause, needs: c }
            """) { $0.parallel = 1 }
        let order = report.results.sorted { $0.startedAt < $1.startedAt }.map(\.id)
        #expect(order == ["a", "b", "c", "d"])
    }

    @Test func aLongChainRunsEveryStep() throws {
        var yaml = "steps:\n  - { id: s1, kind: pause }\n"
        for i in 2...500 { yaml += "  - { id: s\(i), kind: pause, needs: s\(i - 1), when: \"steps.s\(i - 1).status == 'ok'\" }\n" }
        let report = try execute(yaml) { $0.parallel = 8 }
        #expect(report.results.count == 500)
        #expect(report.results.allSatisfy { $0.status == .ok })
    }
}
