import Checks
import Foundation
import Testing
@testable import Runbooks

@Suite("Executor")
struct ExecutorTests {
    @Test func independentStepsRunInParallel() throws {
        let report = try execute("""
            steps:
              - { id: a, kind: pause, with: { duration: 300ms } }
              - { id: b, kind: pause, with: { duration: 300ms } }
              - { id: c, kind: pause, with: { duration: 300ms } }
              - { id: d, kind: pause, needs: [a, b, c] }
            """) { $0.parallel = 3 }
        #expect(report.status == .ok)
        let a = try #require(report.result("a")), b = try #require(report.result("b")), d = try #require(report.result("d"))
        // b started before a finished: they overlapped.
        #expect(b.startedAt < a.startedAt.addingTimeInterval(a.durationMs / 1000))
        // d started after all its needs finished.
        #expect(d.startedAt >= a.startedAt.addingTimeInterval(a.durationMs / 1000 - 0.001))
        #expect(report.results.map(\.id) == ["a", "b", "c", "d"])
    }

    @Test func failureBlocksDependentsButNotAlwaysSteps() throws {
        let report = try execute("""
            steps:
              - { id: broken, kind: shell, with: { command: "exit 3", readonly: true }, remediation: "fix ${params.thing}" }
              - { id: after, kind: pause, needs: broken }
              - { id: later, kind: pause, needs: after }
              - { id: independent, kind: pause }
              - { id: cleanup, kind: pause, always: true, needs: broken }
            params: { thing: the widget }
            """)
        #expect(report.result("broken")?.status == .fail)
        #expect(report.result("broken")?.message.contains("exit code 3") == true)
        #expect(report.result("broken")?.remediation == "fix the widget")
        #expect(report.result("after")?.status == .skipped)
        #expect(report.result("after")?.blockedBy == ["broken"])
        #expect(report.result("later")?.blockedBy == ["after"])
        #expect(report.result("independent")?.status == .ok)
        #expect(report.result("cleanup")?.status == .ok)
        #expect(report.status == .fail)
    }

    @Test func continueOnFailureDoesNotBlock() throws {
        let report = try execute("""
            steps:
              - { id: flaky, kind: shell, continue_on_failure: true, with: { command: "false", readonly: true } }
              - { id: next, kind: pause, needs: flaky }
            """)
        #expect(report.result("next")?.status == .ok)
    }

    @Test func whenSkipsAndStepResultsFlowDownstream() throws {
        let report = try execute("""
            params: { mode: app }
            steps:
              - { id: full-only, kind: pause, when: "params.mode == 'full'" }
              - { id: probe, kind: shell, with: { command: "echo 42", readonly: true } }
              - id: use
                kind: shell
                needs: probe
                when: steps.probe.status == 'ok' && steps.probe.details.exit_code == 0
                with: { command: "test '${steps.probe.details.stdout}' = '42\n' || echo got ${steps.probe.details.stdout}", readonly: true }
            """)
        #expect(report.result("full-only")?.status == .skipped)
        #expect(report.result("full-only")?.message.contains("condition not met") == true)
        #expect(report.result("use")?.status == .ok)
    }

    @Test func retriesUntilSuccessAndReportsAttempts() throws {
        let dir = TemporaryFile()
        let report = try execute("""
            steps:
              - id: third-time-lucky
                kind: shell
                retry: { attempts: 5, delay: 10ms, backoff: 2 }
                with: { command: "echo x >> \(dir.path); test $(wc -l < \(dir.path)) -ge 3", readonly: true }
            """)
        let r = try #require(report.result("third-time-lucky"))
        #expect(r.status == .ok)
        #expect(r.attempts == 3)
        #expect(r.message.contains("passed after 3 attempts"))
    }

    @Test func retryUntilConditionOnDetails() throws {
        let report = try execute("""
            steps:
              - id: never
                kind: shell
                retry: { attempts: 2, delay: 10ms, until: "details.stdout == 'ready'" }
                with: { command: "printf waiting", readonly: true }
            """)
        #expect(report.result("never")?.status == .fail)
        #expect(report.result("never")?.attempts == 2)
        #expect(report.result("never")?.message.contains("still false") == true)
    }

    @Test func timeoutKillsTheWork() throws {
        let report = try execute("""
            steps:
              - { id: slow, kind: shell, timeout: 300ms, with: { command: "sleep 30", readonly: true } }
            """)
        let r = try #require(report.result("slow"))
        #expect(r.status == .error)
        #expect(r.message.contains("timed out after 300ms"))
        #expect(r.durationMs < 10_000)
    }

    @Test func dryRunSkipsMutatingStepsWithTheirPlan() throws {
        let report = try execute("""
            steps:
              - { id: read, kind: shell, with: { command: "echo read", readonly: true } }
              - { id: write, kind: shell, with: { command: "touch /tmp/should-not-exist-opsctl" } }
            """) { $0.dryRun = true }
        #expect(report.result("read")?.status == .ok)
        #expect(report.result("write")?.status == .skipped)
        #expect(report.result("write")?.message == "dry-run: would run: touch /tmp/should-not-exist-opsctl")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/should-not-exist-opsctl"))
        #expect(report.dryRun)
    }

    @Test func protectedEnvironmentNeedsTypedConfirmation() throws {
        let yaml = "steps:\n  - { id: write, kind: shell, with: { command: \"true\" } }\n"
        let production = EnvironmentConfig(name: "production", protected: true)
        let refused = try execute(yaml, environment: production)
        #expect(refused.aborted?.contains("protected") == true)
        #expect(refused.aborted?.contains("--confirm production") == true)
        #expect(refused.results.isEmpty)
        let wrongWord = try execute(yaml, environment: production) { $0.confirm = "yes" }
        #expect(wrongWord.aborted != nil)
        let typedWrong = try execute(yaml, environment: production) { $0.prompt = { _ in "prod" } }
        #expect(typedWrong.aborted?.contains("refused") == true)
        let typed = try execute(yaml, environment: production) { $0.prompt = { _ in "production" } }
        #expect(typed.aborted == nil && typed.result("write")?.status == .ok)
        let flag = try execute(yaml, environment: production) { $0.confirm = "production" }
        #expect(flag.aborted == nil && flag.result("write")?.status == .ok)
        // Read-only runbooks need no confirmation even on protected environments.
        let readOnly = try execute("steps:\n  - { id: r, kind: pause }\n", environment: production)
        #expect(readOnly.aborted == nil)
    }

    @Test func interruptCancelsRunningStepsAndStillRunsCleanup() throws {
        let runbook = try loadRunbook("""
            steps:
              - { id: long, kind: shell, with: { command: "sleep 30", readonly: true } }
              - { id: next, kind: pause, needs: long }
              - { id: cleanup, kind: pause, always: true }
            """)
        let executor = Executor(runbook: runbook, options: RunOptions(environment: EnvironmentConfig(name: "local")), reporter: nil, journal: nil)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { executor.interrupt(reason: "interrupted by SIGINT") }
        let report = executor.run()
        #expect(report.aborted == "interrupted by SIGINT")
        #expect(report.result("long")?.status == .error)
        #expect(report.result("next")?.status == .skipped)
        #expect(report.result("cleanup")?.status == .ok)
        #expect(OutputFormat.human.exitCode(for: report, strict: false) == 2)
    }

    @Test func deadlineAbortsTheRun() throws {
        let report = try execute("steps:\n  - { id: long, kind: pause, with: { duration: 30s } }\n") { $0.deadline = 0.2 }
        #expect(report.aborted?.contains("deadline") == true)
        #expect(report.result("long")?.status == .error)
    }

    @Test func onlyAndFromSelectSteps() throws {
        let yaml = "steps:\n  - { id: a, kind: pause }\n  - { id: b, kind: pause, needs: a }\n  - { id: c, kind: pause, needs: b }\n"
        #expect(try execute(yaml) { $0.only = ["b"] }.results.map(\.id) == ["b"])
        #expect(try execute(yaml) { $0.from = "b" }.results.map(\.id) == ["b", "c"])
        #expect(try execute(yaml) { $0.only = ["zz"] }.aborted?.contains("no step 'zz'") == true)
    }

    @Test func resumeSkipsStepsThatWereOk() throws {
        let yaml = "steps:\n  - { id: a, kind: shell, with: { command: \"echo once\", readonly: true } }\n  - { id: b, kind: pause, needs: a }\n"
        let first = try execute(yaml)
        let resumed = try execute(yaml) {
            $0.resumeFrom = (first.runID, ["a": first.result("a")!, "b": StepResult(id: "b", title: "b", kind: "pause", status: .error, message: "x")])
        }
        #expect(resumed.result("a")?.status == .skipped)
        #expect(resumed.result("a")?.message == "ok in run \(first.runID)")
        #expect(resumed.result("b")?.status == .ok)
    }

    @Test func includedRunbookRunsAsOneStep() throws {
        let dir = NSTemporaryDirectory() + "opsctl-inc-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "name: child\nsteps:\n  - { id: x, kind: pause }\n  - { id: y, kind: shell, with: { command: 'false', readonly: true } }\n"
            .write(toFile: dir + "/child.yaml", atomically: true, encoding: .utf8)
        let runbook = try loadRunbook("steps:\n  - { id: inner, kind: runbook, with: { runbook: child } }\n", directory: dir)
        let report = Executor(runbook: runbook, options: RunOptions(environment: EnvironmentConfig(name: "local")), reporter: nil, journal: nil).run()
        #expect(report.result("inner")?.status == .fail)
        #expect(report.result("inner")?.message.contains("1 ok, 1 fail") == true)
    }
}

/// A unique temp file path, removed afterwards.
final class TemporaryFile {
    let path = NSTemporaryDirectory() + "opsctl-" + UUID().uuidString
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
