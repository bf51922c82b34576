import ArgumentParser
import Checks
import Runbooks

extension Opsctl {
    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rollback",
            abstract: "Emergency rollback: database to a migration version, the application, both, or a backup restore; then verify.",
            discussion: """
                Decision matrix: P0 --mode full (app + database, 5-10 min); P1 --mode app (2-5 min); P2 --to N (migrations to a version, 10-15 min); P3: fix forward instead. Every destructive step asks for typed confirmation (--confirm ENV on protected environments).

                Examples:
                  opsctl rollback --to 8 --env production
                  opsctl rollback --mode app --env production --confirm production
                  opsctl rollback --mode full --to 8 --env production
                  opsctl rollback --mode restore --backup /backups/2026-11-24.dump --env staging
                  opsctl rollback --mode status --env production
                """)

        @Option(name: .long, parsing: .unconditional, help: "Migration version to roll back to.")
        var to: Int?

        @Option(name: .long, parsing: .unconditional, help: "Or: roll back this many migrations.")
        var steps: Int?

        @Option(name: .long, help: "full, app, migrations, restore or status (default: migrations with --to/--steps, else status).")
        var mode: String?

        @Option(name: .long, help: "Backup file for --mode restore: pg_dump custom format or plain SQL (pg_dump > backup.sql), a path or a name in backups.dir.")
        var backup: String?

        @Option(name: .long, help: "Application rollback command (default: rollback_command of the environment).")
        var appCommand: String?

        @Option(name: .long, help: "Migration directory (default: the environment's).")
        var dir: String?

        @OptionGroup var global: GlobalOptions

        var effectiveMode: String { mode ?? ((to != nil || steps != nil) ? "migrations" : "status") }

        func validate() throws {
            guard ["full", "app", "migrations", "restore", "status"].contains(effectiveMode) else {
                throw ValidationError("--mode must be full, app, migrations, restore or status")
            }
            if ["full", "migrations"].contains(effectiveMode) && (to == nil) == (steps == nil) {
                throw ValidationError("--mode \(effectiveMode) needs exactly one of --to VERSION or --steps N")
            }
            try FlagCheck.range(to, "--to", 0...Int.max)
            try FlagCheck.range(steps, "--steps", 1...10_000)
            if effectiveMode == "restore" && backup == nil { throw ValidationError("--mode restore needs --backup FILE") }
        }

        func run() throws {
            let service = RunService(global: global)
            let (_, env) = try service.environment()
            if ["full", "app"].contains(effectiveMode) && appCommand == nil && env.rollbackCommand == nil {
                Terminal.error("--mode \(effectiveMode) needs the application rollback command: set rollback_command for '\(env.name)' in opsctl.yaml or pass --app-command")
                throw ExitCode(64)
            }
            var params: [String: JSONValue] = ["mode": .string(effectiveMode), "dir": .string(dir ?? env.migrationsDir ?? "migrations")]
            if let to { params["to"] = .int(to) }
            if let steps { params["steps"] = .int(steps) }
            if let backup { params["backup"] = .string(backup) }
            if let command = appCommand ?? env.rollbackCommand { params["app_command"] = .string(command) }
            if let pattern = env.migrationsDownPattern { params["down_pattern"] = .string(pattern) }
            if let table = env.migrationsTable { params["table"] = .string(table) }
            try service.run("rollback", params: params, verb: "rollback")
        }
    }
}
