import Foundation
import Support

extension Shell {
    /// The dry-run's checks, none of which runs the command: the working directory exists, `sh -n`
    /// parses the command, and its first word is a command the shell finds (else the real run exits 127).
    func checkRunnable(_ context: StepContext) throws {
        var environment = context.environment
        for (k, v) in env { environment[k] = v }
        if let cwd {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: cwd, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw StepError("working directory \(cwd) does not exist")
            }
        }
        let syntax = try ProcessRunner.run(["/bin/sh", "-n", "-c", command], environment: environment, directory: cwd, timeout: 10)
        if syntax.exitCode != 0 {
            let reason = syntax.stderr.split(separator: "\n").last.map(String.init) ?? "exit \(syntax.exitCode)"
            throw StepError("the shell rejects the command: \(reason)", details: ["exit_code": .int(Int(syntax.exitCode))])
        }
        // Only a plain first word is checked: assignments, quoting and expansions are the shell's to interpret.
        let first = command.split(whereSeparator: \.isWhitespace).first.map(String.init) ?? ""
        if !first.isEmpty, first.allSatisfy({ $0.isLetter || $0.isNumber || "_./-".contains($0) }) {
            let found = try ProcessRunner.run(["/bin/sh", "-c", "command -v \"$1\" >/dev/null", "sh", first],
                                              environment: environment, directory: cwd, timeout: 10)
            if found.exitCode != 0 {
                throw StepError("\(first): command not found (the real run would exit 127)", details: ["exit_code": 127])
            }
        }
    }
}
