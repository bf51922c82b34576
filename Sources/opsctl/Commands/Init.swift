import ArgumentParser
import Foundation
import Runbooks

extension Opsctl {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Write a commented opsctl.yaml (and a runbooks/ directory for overrides) for a shipped profile.",
            discussion: """
                Then edit base_url, database_url_env and the service: block, and run `opsctl doctor`.

                Examples:
                  opsctl init --profile churn-saver
                  opsctl init --profile churn-saver --dir ops
                """)

        @Option(name: .long, help: "Shipped profile to start from (e.g. churn-saver).")
        var profile: String

        @Option(name: .long, help: "Directory to write into (default: the current directory).")
        var dir: String = "."

        func run() throws {
            let text: String
            do {
                text = try ProfileTemplate.opsctlYAML(profile: profile)
            } catch let error as LoadError {
                throw ValidationError("\(error.message) (\(error.hint ?? ""))")
            }
            let fm = FileManager.default
            let file = URL(fileURLWithPath: dir).appendingPathComponent("opsctl.yaml").path
            guard !fm.fileExists(atPath: file) else {
                FileHandle.standardError.write(Data("opsctl init: \(file) exists; not overwriting it (remove it, or choose --dir)\n".utf8))
                throw ExitCode(1)
            }
            try fm.createDirectory(atPath: dir + "/runbooks", withIntermediateDirectories: true)
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            print("wrote \(file) (profile \(profile)) and \(dir)/runbooks/; next: edit it, then opsctl doctor")
        }
    }
}
