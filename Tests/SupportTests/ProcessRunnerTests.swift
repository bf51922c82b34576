import Foundation
import Support
import Testing

@Suite("ProcessRunner")
struct ProcessRunnerTests {
    @Test("exit codes are reported", arguments: [0, 1, 3, 42, 255])
    func exitCodes(code: Int) throws {
        let out = try ProcessRunner.run(["sh", "-c", "exit \(code)"])
        #expect(out.exitCode == Int32(code))
        #expect(out.signal == nil)
        #expect(!out.timedOut && !out.cancelled)
    }

    @Test func capturesStdoutAndStderrSeparately() throws {
        let out = try ProcessRunner.run(["sh", "-c", "echo to-out; echo to-err >&2; echo more-out"])
        #expect(out.stdout == "to-out\nmore-out\n")
        #expect(out.stderr == "to-err\n")
    }

    @Test func feedsStdin() throws {
        let out = try ProcessRunner.run(["cat"], stdin: "line one\nline two\n")
        #expect(out.stdout == "line one\nline two\n")
    }

    @Test func feedsLargeStdinWithoutDeadlock() throws {
        // Larger than a pipe buffer in both directions.
        let text = String(repeating: "0123456789abcdef", count: 256 * 1024)
        let out = try ProcessRunner.run(["cat"], stdin: text, outputLimit: 8 << 20)
        #expect(out.stdout.count == text.count)
        #expect(out.exitCode == 0)
    }

    @Test("a child that never reads its stdin does not take the caller down (SIGPIPE)")
    func childIgnoringStdin() throws {
        let text = String(repeating: "x", count: 4 << 20)
        for _ in 0..<5 {
            let out = try ProcessRunner.run(["true"], stdin: text)
            #expect(out.exitCode == 0)
        }
    }

    @Test func passesEnvironmentAndDirectory() throws {
        let out = try ProcessRunner.run(["sh", "-c", "echo \"$OPSCTL_PROBE\"; pwd"],
                                        environment: ["OPSCTL_PROBE": "probe-value", "PATH": "/usr/bin:/bin"],
                                        directory: "/tmp")
        #expect(out.stdout == "probe-value\n/tmp\n")
    }

    @Test func missingCommandIsASpawnError() throws {
        #expect(throws: ProcessRunnerError.self) { try ProcessRunner.run(["opsctl-no-such-command-xyz"]) }
        do {
            _ = try ProcessRunner.run(["opsctl-no-such-command-xyz"])
        } catch {
            let text = String(describing: error)
            #expect(text.contains("opsctl-no-such-command-xyz"))
            #expect(text.contains("installed"))
        }
    }

    @Test("a missing command is a spawn error even with a working directory")
    func missingCommandWithDirectory() throws {
        #expect(throws: ProcessRunnerError.self) {
            try ProcessRunner.run(["opsctl-no-such-command-xyz"], directory: "/tmp")
        }
    }

    @Test func deathBySignalIsReported() throws {
        let out = try ProcessRunner.run(["sh", "-c", "kill -9 $$"])
        #expect(out.signal == 9)
        #expect(out.exitCode == 137)
    }

    @Test("a timeout kills the whole process group, grandchildren included")
    func timeoutKillsProcessGroup() throws {
        let started = Date()
        let out = try ProcessRunner.run(["sh", "-c", "sleep 30 & echo $!; sleep 30"], timeout: 0.5)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(out.timedOut)
        #expect(!out.cancelled)
        let grandchild = try #require(pid_t(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(waitUntilGone(grandchild), "grandchild \(grandchild) still alive")
    }

    @Test("children that ignore SIGTERM are killed after the grace period")
    func timeoutEscalatesToSigkill() throws {
        let started = Date()
        let out = try ProcessRunner.run(["sh", "-c", "trap '' TERM; sleep 30 & echo $!; wait"], timeout: 0.5)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(out.timedOut)
        let grandchild = try #require(pid_t(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(waitUntilGone(grandchild))
    }

    @Test("the timeout also bounds a grandchild that keeps the output open after the child exits")
    func timeoutBoundsLeftoverGrandchild() throws {
        let started = Date()
        let out = try ProcessRunner.run(["sh", "-c", "sleep 30 & echo $!"], timeout: 1)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(out.timedOut)
        let grandchild = try #require(pid_t(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(waitUntilGone(grandchild))
    }

    @Test func cancellationFromAnotherThread() throws {
        let cancellation = ProcessCancellation()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { cancellation.cancel() }
        let started = Date()
        let out = try ProcessRunner.run(["sh", "-c", "sleep 30 & sleep 30"], cancellation: cancellation)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(out.cancelled)
        #expect(!out.timedOut)
        #expect(out.signal == SIGTERM)
        #expect(cancellation.isCancelled)
    }

    @Test func cancellationBeforeStartKillsImmediately() throws {
        let cancellation = ProcessCancellation()
        cancellation.cancel()
        let started = Date()
        let out = try ProcessRunner.run(["sleep", "30"], cancellation: cancellation)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(out.cancelled)
        #expect(out.signal != nil)
    }

    @Test("a timeout neither marks the caller's cancellation handle nor kills its next child")
    func timeoutLeavesCancellationReusable() throws {
        let cancellation = ProcessCancellation()
        let first = try ProcessRunner.run(["sleep", "30"], timeout: 0.3, cancellation: cancellation)
        #expect(first.timedOut)
        #expect(!cancellation.isCancelled)
        // Outlives the first run's SIGKILL escalation (due 1 s after its timeout): it must not be hit by it.
        let second = try ProcessRunner.run(["sh", "-c", "sleep 1.5; echo ok"], cancellation: cancellation)
        #expect(second.exitCode == 0)
        #expect(second.stdout == "ok\n")
    }

    @Test func outputLimitCapsCapturedBytesButDrainsThePipe() throws {
        let out = try ProcessRunner.run(["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x; echo done >&2"],
                                        timeout: 30, outputLimit: 1000)
        #expect(out.exitCode == 0)
        #expect(!out.timedOut)
        #expect(out.stdout.utf8.count == 1000)
        #expect(out.stderr == "done\n")
    }

    @Test("a child spawned during another run does not inherit that run's pipes")
    func parallelRunsDoNotHoldEachOthersPipes() throws {
        // Run A feeds 1 MB to a child that starts reading after 1 s, so A's stdin pipe stays open a while.
        // A `sleep 8` spawned meanwhile must not inherit that pipe: if it did, A's `cat` would wait
        // for EOF until the sleep ends.
        let result = Box()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            let started = Date()
            let out = try? ProcessRunner.run(["sh", "-c", "sleep 1; cat >/dev/null; echo read-all"],
                                             stdin: String(repeating: "y", count: 1 << 20))
            result.set(out?.stdout ?? "", Date().timeIntervalSince(started))
        }
        Thread.sleep(forTimeInterval: 0.3)
        let long = try ProcessRunner.run(["sleep", "8"])
        #expect(long.exitCode == 0)
        group.wait()
        let (stdout, seconds) = result.value
        #expect(stdout == "read-all\n")
        #expect(seconds < 6, "run A took \(seconds) s: it waited for the unrelated sleep")
    }

    @Test func whichFindsExecutables() {
        #expect(ProcessRunner.which("sh") != nil)
        #expect(ProcessRunner.which("opsctl-no-such-command-xyz") == nil)
        #expect(ProcessRunner.which("/bin/sh") == "/bin/sh")
    }
}

/// True once `pid` no longer exists (or is a zombie waiting for a reaper that may never come in a container).
func waitUntilGone(_ pid: pid_t, within seconds: Double = 5) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).prefix(1)
            if state == "Z" || state == "X" { return true }
        }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return false
}

final class Box: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (String, Double) = ("", 0)
    func set(_ text: String, _ seconds: Double) { lock.withLock { stored = (text, seconds) } }
    var value: (String, Double) { lock.withLock { stored } }
}
