import Foundation
import Postgres
import Testing
import TestSupport

/// The runbook lock is asked for while the read-only steps start: a mutating step waits for it, a
/// refusal still aborts the run (exit 2) and a killed run still resumes from its last journaled step.
@Suite("Runbook lock overlapped with read-only steps", .enabled(if: TestDatabase.available), .serialized)
struct LockOrderingTests {
    let project: Project

    init() throws {
        project = Project(databaseURL: try TestDatabase.fresh("lockorder"))
    }

    /// Holds `deploy`'s lock in another opsctl process until the returned process is terminated.
    private func holdLock() throws -> Process {
        try project.file("hold.yaml", """
            name: deploy
            steps:
              - { id: slow-change, kind: shell, with: { command: 'sleep 30' } }
            """)
        let holder = try project.spawn(["run", "hold.yaml"])
        #expect(eventually { (try? project.opsctl(["history", "--format", "json"]).stdout.contains("\"running\"")) ?? false })
        return holder
    }

    /// While the lock is refused (here after --wait 2s), the read-only steps have run: the one that
    /// finished keeps its result, the one still running is stopped, the mutating step never starts,
    /// a read-only cleanup step still runs; the run is aborted with who holds the lock, exit 2.
    @Test func lockRefusedWhileReadOnlyStepsRunAbortsWithExitTwo() throws {
        let holder = try holdLock()
        defer { holder.terminate(); holder.waitUntilExit() }
        try project.file("deploy.yaml", """
            name: deploy
            steps:
              - { id: check, kind: shell, with: { command: "touch checked", readonly: true } }
              - { id: slow-check, kind: shell, with: { command: "sleep 30", readonly: true } }
              - { id: change, kind: shell, with: { command: "touch changed" } }
              - { id: tidy, kind: shell, always: true, with: { command: "touch tidied", readonly: true } }
            """)
        let run = try project.opsctl(["run", "deploy.yaml", "--wait", "2s", "--format", "json"])
        #expect(run.exitCode == 2, "\(run.stdout)\(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let aborted = try #require(report["aborted"] as? String)
        #expect(aborted.contains("holds the lock 'opsctl:local:deploy'"), "\(aborted)")
        #expect(aborted.contains("pid "))
        // The holder's journal session is named after the runbook it runs (hold.yaml's name is deploy),
        // although it connected before that runbook was loaded.
        #expect(aborted.contains("(opsctl/deploy/journal)"), "\(aborted)")
        let results = try #require(report["results"] as? [[String: Any]])
        func result(_ id: String) -> [String: Any]? { results.first { $0["id"] as? String == id } }
        #expect(result("check")?["status"] as? String == "ok")
        #expect(result("slow-check")?["status"] as? String == "error")
        #expect((result("slow-check")?["message"] as? String)?.contains("stopped: another run holds the lock") == true,
                "\(result("slow-check") ?? [:])")
        #expect(result("change")?["status"] as? String == "skipped")
        #expect((result("change")?["message"] as? String)?.hasPrefix("not started: another run holds the lock") == true)
        #expect(result("tidy")?["status"] as? String == "ok")
        let files = try FileManager.default.contentsOfDirectory(atPath: project.dir.path)
        #expect(files.contains("checked"))
        #expect(files.contains("tidied"))
        #expect(!files.contains("changed"), "a mutating step ran without the lock")
    }

    /// A refusal aborts even a run whose mutating steps were all skipped by `when:` before the answer came.
    @Test func lockRefusedAbortsEvenWhenNoMutatingStepRan() throws {
        let holder = try holdLock()
        defer { holder.terminate(); holder.waitUntilExit() }
        try project.file("deploy.yaml", """
            name: deploy
            params: { really: { type: bool, default: false } }
            steps:
              - { id: check, kind: shell, with: { command: "true", readonly: true } }
              - { id: change, kind: shell, when: params.really, with: { command: "touch changed" } }
            """)
        let run = try project.opsctl(["run", "deploy.yaml", "--format", "json"])
        #expect(run.exitCode == 2, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("holds the lock 'opsctl:local:deploy'"), "\(run.stdout)")
        #expect(!FileManager.default.fileExists(atPath: project.dir.path + "/changed"))
    }

    /// The lock held, the mutating step runs after it is taken; kill -9 while it runs leaves the read-only
    /// steps journaled: --resume reports them ok from the killed run and re-runs the rest, in order.
    @Test func killNineDuringTheMutatingStepResumesAfterTheReadOnlySteps() throws {
        try project.file("ship.yaml", """
            name: ship
            params: { seconds: 5 }
            steps:
              - { id: check-a, kind: shell, with: { command: "echo check-a >> ran.log", readonly: true } }
              - { id: check-b, kind: shell, with: { command: "echo check-b >> ran.log", readonly: true } }
              - { id: change, kind: shell, needs: [check-a, check-b], with: { command: "echo change >> ran.log; sleep ${params.seconds}" } }
              - { id: after, kind: shell, needs: change, with: { command: "echo after >> ran.log", readonly: true } }
            """)
        let log = project.dir.path + "/ran.log"
        func ran() -> [String] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        let victim = try project.spawn(["run", "ship.yaml"])
        #expect(eventually { ran().contains("change") })
        // The read-only steps' rows travel while `change` runs; wait until they are in the journal.
        let db = try PostgresConnection(dsn: try #require(project.env["DATABASE_URL"]))
        defer { db.close() }
        #expect(eventually {
            ((try? db.query("SELECT count(*) AS n FROM opsctl.step_results WHERE status = 'ok'").first?["n"].int) ?? 0) == 2
        })
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        let runID = try #require(project.interruptedRunID(), "a killed run must show as interrupted")
        // The killed process's session (and its lock) is gone: the resumed run takes the lock at once.
        let resumed = try project.opsctl(["run", "ship.yaml", "--resume", runID, "--param", "seconds=0", "--format", "json"])
        #expect(resumed.exitCode == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.components(separatedBy: "ok in run \(runID)").count - 1 == 2, "\(resumed.stdout)")
        // The checks ran once (in either order: they run in parallel), the rest again after the kill.
        #expect(ran().prefix(2).sorted() == ["check-a", "check-b"], "\(ran())")
        #expect(Array(ran().dropFirst(2)) == ["change", "change", "after"], "\(ran())")
    }
}
