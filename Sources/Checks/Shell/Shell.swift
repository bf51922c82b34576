import Foundation
import Support

/// Runs a command; checks its exit code and output.
public struct Shell: StepKind {
    public static let name = "shell"
    public static let summary = "Run a command (sh -c); check exit code and stdout/stderr patterns"
    public static let parameters: [ParameterSpec] = [
        .init("command", .string, required: true, "command line, run with /bin/sh -c ($OPSCTL_DATABASE_URL and $OPSCTL_BASE_URL are set for the environment; ${...} in it becomes a quoted \"$OPSCTL_PARAM_NAME\" variable)").code(.shell(environment: "env")),
        .init("env", .map, "extra environment variables"),
        .init("cwd", .string, "working directory"),
        .init("expect_exit", .int, default: 0, "expected exit code"),
        .init("stdout_matches", .string, "regular expression stdout must match"),
        .init("stderr_matches", .string, "regular expression stderr must match"),
        .init("stdout_not_matches", .string, "regular expression stdout must not match"),
        .init("readonly", .bool, default: false, "declare the command read-only (not mutating: runs in dry-run, needs no confirmation)"),
    ]
    /// Commands mutate unless declared `readonly: true` (see `mutates(with:)`).
    public static let mutates = true
    public static let example = """
        - id: disk-space
          kind: shell
          with:
            command: df -P /
            readonly: true
            stdout_matches: "/"
        """

    let command: String
    let env: [String: String]
    let cwd: String?
    let expectedExit: Int
    let stdoutPattern: NSRegularExpression?
    let stderrPattern: NSRegularExpression?
    let stdoutForbidden: NSRegularExpression?
    public let readonly: Bool

    public init(_ p: StepParameters) throws {
        command = try p.string("command")
        env = try p.map("env").mapValues { $0.string ?? $0.jsonText }
        cwd = try p.optionalString("cwd")
        expectedExit = try p.int("expect_exit", default: 0)
        func regex(_ key: String) throws -> NSRegularExpression? {
            guard let pattern = try p.optionalString(key) else { return nil }
            do { return try NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines]) } catch {
                throw StepError("step '\(p.stepID)': \(key) is not a valid regular expression: \(pattern)")
            }
        }
        stdoutPattern = try regex("stdout_matches")
        stderrPattern = try regex("stderr_matches")
        stdoutForbidden = try regex("stdout_not_matches")
        readonly = try p.bool("readonly", default: false)
    }

    /// The command as it will run, and the values of the variables it refers to (masked by the caller).
    public func plan(_ context: StepContext) throws -> String {
        try checkRunnable(context)
        func refers(_ text: String, _ name: String) -> Bool { text.contains("$" + name) || text.contains("${" + name + "}") }
        var bound = env.keys.sorted().filter { refers(command, $0) }
        // A variable holding a command line run with eval (rollback's app command) shows the ones it refers to.
        bound += env.keys.sorted().filter { name in !bound.contains(name) && bound.contains { refers(env[$0] ?? "", name) } }
        return (["would run: \(command)"] + bound.map { "  \($0)=\(env[$0] ?? "")" }).joined(separator: "\n")
    }

    public var isMutating: Bool { !readonly }

    public func run(_ context: StepContext) throws -> StepOutcome {
        var environment = context.environment
        // Commands reach the environment's database and service without knowing variable names.
        if let dsn = context.environment[context.databaseURLVariable] { environment["OPSCTL_DATABASE_URL"] = dsn }
        if let base = context.baseURL { environment["OPSCTL_BASE_URL"] = base }
        for (k, v) in env { environment[k] = v }
        let cancellation = ProcessCancellation()
        context.cancellation.onCancel { cancellation.cancel(grace: 2) }
        let out = try ProcessRunner.run(["/bin/sh", "-c", command], environment: environment, directory: cwd,
                                        cancellation: cancellation)
        // Mask first, then cut: a secret cut in half no longer matches and would leak its prefix.
        let stdout = SecretMasker.shared.mask(out.stdout), stderr = SecretMasker.shared.mask(out.stderr)
        let details: [String: JSONValue] = [
            "exit_code": .int(Int(out.exitCode)),
            "stdout": .string(Self.tail(stdout)), "stderr": .string(Self.tail(stderr)),
        ]
        if out.cancelled { return .init(.error, "command stopped: \(context.cancellation.reason ?? "cancelled")", details: details) }
        var problems: [String] = []
        if Int(out.exitCode) != expectedExit {
            let lastLine = stderr.split(separator: "\n").last.map { ": \($0)" } ?? ""
            problems.append("exit code \(out.exitCode), expected \(expectedExit)\(lastLine)")
        }
        func found(_ regex: NSRegularExpression?, _ text: String) -> Bool {
            regex?.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        }
        if let stdoutPattern, !found(stdoutPattern, out.stdout) { problems.append("stdout does not match /\(stdoutPattern.pattern)/") }
        if let stderrPattern, !found(stderrPattern, out.stderr) { problems.append("stderr does not match /\(stderrPattern.pattern)/") }
        if let stdoutForbidden, found(stdoutForbidden, out.stdout) { problems.append("stdout matches forbidden /\(stdoutForbidden.pattern)/") }
        if !problems.isEmpty { return .init(.fail, problems.joined(separator: "; "), details: details) }
        let firstLine = stdout.split(separator: "\n").first.map { String($0.prefix(120)) } ?? ""
        return .ok(firstLine.isEmpty ? "exit \(out.exitCode)" : "exit \(out.exitCode): \(firstLine)", details: details)
    }

    /// Keeps reports small: the last 4 KB of an output stream.
    static func tail(_ text: String) -> String {
        text.count > 4096 ? "…" + String(text.suffix(4096)) : text
    }
}
