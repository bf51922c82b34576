import Checks
import Foundation
import Support

/// Where runs are recorded: the target database's `opsctl` schema, or a JSONL file when the
/// database is unreachable. Every value written passes through the secret masker.
public protocol RunJournal: AnyObject, Sendable {
    /// Takes the runbook lock; returns why not (who holds it) or nil when taken.
    func acquireLock(name: String, wait: Double?) -> String?
    /// The same, off the caller's thread: `settled` gets nil (taken) or why not. The run's read-only
    /// steps start meanwhile; its mutating steps wait for the answer.
    func acquireLock(name: String, wait: Double?, settled: @escaping @Sendable (String?) -> Void)
    func runStarted(runID: String, runbook: Runbook, options: RunOptions)
    func stepFinished(runID: String, position: Int, result: StepResult)
    func runFinished(_ report: RunReport)
    /// Releases locks held for the run.
    func release(runID: String)
    func history(runbook: String?, limit: Int) throws -> [RunSummary]
    /// The recorded report of a run (partial for an interrupted one).
    func report(runID: String) throws -> RunReport?
    /// The params a run was started with (as bound, secrets masked), so `--resume` can run with them.
    func params(runID: String) throws -> [String: JSONValue]?
    /// Human description: "database user@host/db" or "file ~/.local/state/opsctl/journal.jsonl".
    var location: String { get }
}

extension RunJournal {
    public func acquireLock(name: String, wait: Double?, settled: @escaping @Sendable (String?) -> Void) {
        DispatchQueue.global().async { settled(self.acquireLock(name: name, wait: wait)) }
    }
}

/// One line of `opsctl history`.
public struct RunSummary: Sendable, Codable, Equatable {
    public var runID: String
    public var runbook: String
    public var environment: String?
    public var actor: String
    public var host: String
    /// ok/warn/fail/error, `running`, or `interrupted` (the process died: its lock is gone).
    public var status: String
    public var startedAt: Date
    public var durationMs: Double?
    public var dryRun: Bool
    public var aborted: String?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", runbook, environment, actor, host, status, startedAt = "started_at"
        case durationMs = "duration_ms", dryRun = "dry_run", aborted
    }
}

/// Facts about the run's origin recorded in the journal.
enum RunOrigin {
    static var host: String { ProcessInfo.processInfo.hostName }

    /// The git commit of the working directory, when it is inside a repository.
    static var gitCommit: String? {
        // Outside a repository there is nothing to ask git: looking for `.git` up the tree costs a few
        // stats, a `git` process a fork and exec competing with the run's first steps for the CPU.
        guard insideRepository(from: FileManager.default.currentDirectoryPath) else { return nil }
        guard let out = try? ProcessRunner.run(["git", "rev-parse", "--short=12", "HEAD"], timeout: 2),
              out.exitCode == 0 else { return nil }
        let sha = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return sha.isEmpty ? nil : sha
    }

    /// Whether git could find a repository from here: `GIT_DIR` set, or a `.git` (directory, or the
    /// file of a worktree or submodule) in the working directory or one of its parents.
    static func insideRepository(from directory: String) -> Bool {
        if ProcessInfo.processInfo.environment["GIT_DIR"] != nil { return true }
        var parts = directory.split(separator: "/", omittingEmptySubsequences: true)
        while true {
            if FileManager.default.fileExists(atPath: "/" + (parts + [".git"]).joined(separator: "/")) { return true }
            if parts.isEmpty { return false }
            parts.removeLast()
        }
    }

    static func maskedJSON(_ value: JSONValue) -> String {
        SecretMasker.shared.mask(value.masked().jsonText)
    }

    /// Params as the journal keeps them: secret-named ones (`*password*`, `*token*`, `*key*`, …)
    /// as `****` whatever their value, the others with registered secrets masked.
    /// `--resume` asks for the `****` ones again rather than running with the placeholder.
    static func maskedParams(_ values: [String: JSONValue]) -> JSONValue {
        .object(Dictionary(uniqueKeysWithValues: values.map { name, value in
            let hidden = SecretMasker.isSecretName(name) && !(value.isNull || value.string == "")
            return (name, hidden ? .string(SecretMasker.placeholder) : value.masked())
        }))
    }

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys]
        return e
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let s = try c.decode(String.self)
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            if let d = f.date(from: s) { return d }
            f.formatOptions = [.withInternetDateTime]
            if let d = f.date(from: s) { return d }
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "bad date \(s)")
        }
        return d
    }

    /// Masked as a model first (a secret holding `"` or `\` no longer matches once JSON-escaped), then as text.
    static func masked(_ result: StepResult) -> String { maskedText(result.masked()) }
    static func masked(_ report: RunReport) -> String { maskedText(report.masked()) }

    static func maskedText<T: Encodable>(_ value: T) -> String {
        let data = (try? encoder().encode(value)) ?? Data("null".utf8)
        return SecretMasker.shared.mask(String(decoding: data, as: UTF8.self))
    }
}
