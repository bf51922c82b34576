import Checks
import Foundation
import Support

/// The run journal when the database is unreachable: JSON lines in the XDG state directory,
/// with runbook locks as flock(2) on files beside it.
public final class FileJournal: RunJournal, @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    private var lockFDs: [Int32] = []

    public var location: String { "file \(path)" }

    public static var defaultPath: String {
        let env = ProcessInfo.processInfo.environment
        let state = env["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((env["HOME"] ?? NSTemporaryDirectory()) + "/.local/state")
        return state + "/opsctl/journal.jsonl"
    }

    public init(path: String = FileJournal.defaultPath) {
        self.path = path
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    }

    private func append(_ object: [String: JSONValue]) {
        let line = SecretMasker.shared.mask(JSONValue.object(object).masked().jsonText) + "\n"
        lock.withLock {
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o600)
            guard fd >= 0 else { return }
            _ = line.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
    }

    private func encode(_ v: StepResult) -> JSONValue { JSONValue.parse(RunOrigin.masked(v)) ?? .null }
    private func encode(_ v: RunReport) -> JSONValue { JSONValue.parse(RunOrigin.masked(v)) ?? .null }

    public func acquireLock(name: String, wait: Double?) -> String? {
        let dir = (path as NSString).deletingLastPathComponent + "/locks"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let safe = name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }
        let file = dir + "/" + String(safe) + ".lock"
        let fd = open(file, O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else { return "could not open lock file \(file)" }
        let deadline = Date().addingTimeInterval(wait ?? 0)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if Date() >= deadline {
                let holder = (try? String(contentsOfFile: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
                close(fd)
                return "another run holds the lock '\(name)' (\(holder)); wait for it to finish or pass --wait 60s"
            }
            usleep(100_000)
        }
        ftruncate(fd, 0)
        let info = "pid \(getpid()) on \(RunOrigin.host) since \(ISO8601DateFormatter().string(from: Date()))"
        _ = info.withCString { write(fd, $0, strlen($0)) }
        lock.withLock { lockFDs.append(fd) }
        return nil
    }

    public func runStarted(runID: String, runbook: Runbook, options: RunOptions) {
        append(["event": "run_started", "run_id": .string(runID), "runbook": .string(runbook.name),
                "environment": .string(options.environment.name), "actor": .string(options.actor), "host": .string(RunOrigin.host),
                "git_commit": RunOrigin.gitCommit.map(JSONValue.string) ?? .null, "params": RunOrigin.maskedParams(runbook.values),
                "dry_run": .bool(options.dryRun), "pid": .int(Int(getpid())),
                "started_at": .string(ISO8601DateFormatter().string(from: Date()))])
    }

    public func stepFinished(runID: String, position: Int, result: StepResult) {
        append(["event": "step_finished", "run_id": .string(runID), "position": .int(position), "result": encode(result)])
    }

    public func runFinished(_ report: RunReport) {
        append(["event": "run_finished", "run_id": .string(report.runID), "report": encode(report)])
    }

    public func release(runID: String) {
        let fds = lock.withLock { () -> [Int32] in
            defer { lockFDs.removeAll() }
            return lockFDs
        }
        for fd in fds { flock(fd, LOCK_UN); close(fd) }
    }

    private func events() -> [[String: JSONValue]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { JSONValue.parse(String($0))?.object }
    }

    public func history(runbook: String?, limit: Int) throws -> [RunSummary] {
        var runs: [String: RunSummary] = [:]
        var order: [String] = []
        var pids: [String: Int] = [:]
        for e in events() {
            guard let id = e["run_id"]?.string else { continue }
            switch e["event"]?.string {
            case "run_started":
                let started = e["started_at"]?.string.flatMap { ISO8601DateFormatter().date(from: $0) } ?? Date()
                runs[id] = RunSummary(runID: id, runbook: e["runbook"]?.string ?? "", environment: e["environment"]?.string,
                                      actor: e["actor"]?.string ?? "", host: e["host"]?.string ?? "", status: "running",
                                      startedAt: started, durationMs: nil, dryRun: e["dry_run"]?.bool ?? false, aborted: nil)
                pids[id] = e["pid"]?.int
                order.append(id)
            case "run_finished":
                guard let report = e["report"]?.object else { continue }
                runs[id]?.status = report["status"]?.string ?? "error"
                runs[id]?.durationMs = report["duration_ms"]?.double
                runs[id]?.aborted = report["aborted"]?.string
            default: break
            }
        }
        for id in order where runs[id]?.status == "running" {
            if let pid = pids[id], runs[id]?.host == RunOrigin.host, kill(pid_t(pid), 0) != 0 { runs[id]?.status = "interrupted" }
        }
        return order.reversed().compactMap { runs[$0] }.filter { runbook == nil || $0.runbook == runbook }.prefix(limit).map { $0 }
    }

    public func params(runID: String) throws -> [String: JSONValue]? {
        events().first { $0["run_id"]?.string == runID && $0["event"]?.string == "run_started" }?["params"]?.object
    }

    public func report(runID: String) throws -> RunReport? {
        var steps: [(Int, StepResult)] = []
        var started: [String: JSONValue]?
        for e in events() where e["run_id"]?.string == runID {
            switch e["event"]?.string {
            case "run_finished":
                if let r = e["report"], let report = try? RunOrigin.decoder().decode(RunReport.self, from: Data(r.jsonText.utf8)) { return report }
            case "run_started": started = e
            case "step_finished":
                if let r = e["result"], let result = try? RunOrigin.decoder().decode(StepResult.self, from: Data(r.jsonText.utf8)) {
                    steps.append((e["position"]?.int ?? 0, result))
                }
            default: break
            }
        }
        guard let started else { return nil }
        return RunReport(runID: runID, runbook: started["runbook"]?.string ?? "", environment: started["environment"]?.string,
                         startedAt: started["started_at"]?.string.flatMap { ISO8601DateFormatter().date(from: $0) } ?? Date(),
                         results: steps.sorted { $0.0 < $1.0 }.map(\.1),
                         aborted: "interrupted: the run's process ended without finishing", dryRun: started["dry_run"]?.bool ?? false)
    }
}
