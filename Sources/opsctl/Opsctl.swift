import ArgumentParser
import Foundation
import Support

@main
enum Entry {
    /// `opsctl --version` answers before ArgumentParser reflects over every command (~20 ms of
    /// protocol-conformance lookups): scripts and health probes call it in loops.
    static func main() {
        PhaseClock.mark("main")
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.count == 1, arguments.first == "--version" {
            print(Opsctl.version)
            return
        }
        // `logs analyze` is parsed by its own command first: the root's parse reflects over the whole
        // command tree (~2 ms of protocol-conformance lookups before a log is read, on the serial path
        // of every analysis). Whatever that parse does not take as a run (--help, a usage or validation
        // error) is parsed again from the root below, so help, messages and usage lines stay the root's.
        if arguments.count >= 2, arguments.first == "logs", arguments.dropFirst().first == "analyze",
           let parsed = try? Opsctl.Logs.Analyze.parseAsRoot(Array(arguments.dropFirst(2))), parsed is Opsctl.Logs.Analyze {
            PhaseClock.mark("parsed")
            run(parsed)
        }
        run(nil)
    }

    /// Runs `command` (nil: parses the arguments from the root first) and exits.
    /// A command's ExitCode is the run's answer, not an error: exit with it at once. Opsctl.main()
    /// would first build the root command's usage text (HelpGenerator's reflection: 0.1–0.6 ms
    /// between the report's rename and exit_group at the end of every run) and print nothing of it.
    private static func run(_ command: ParsableCommand?) -> Never {
        do {
            var command = try command ?? Opsctl.parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            Opsctl.exit(withError: error)
        }
        exit(0)
    }
}

struct Opsctl: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "opsctl",
        abstract: "Run a service's operations runbooks as code: checks, migrations, verification, recovery.",
        discussion: """
            EXIT CODES
              0   every step ok or skipped (warnings allowed unless --strict)
              1   at least one step fail or error (or warn with --strict)
              2   run aborted: confirmation refused, lock held by another run, interrupted, deadline
              64  usage error (bad flags)
              65  invalid input: runbook, config, migration or data file (message names file:line:col)
            With --format nagios the Nagios plugin codes apply: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
            """,
        version: version,
        subcommands: [
            Health.self, Doctor.self, Init.self, Predeploy.self, Migrate.self, Verify.self, Rollback.self, Deploy.self, Releases.self, Logs.self, Webhook.self, Run.self, Explain.self, RunbooksCommand.self, Kinds.self,
            History.self, Show.self, SandboxCommand.self, Replay.self, Reconcile.self, Maintain.self, Backup.self,
        ])
}
