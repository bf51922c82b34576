import ArgumentParser
import Checks
import Foundation
import Runbooks
import Support

extension Opsctl {
    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rollback",
            abstract: "Emergency rollback: to the last good release (app + database), the application, a migration version, or a backup restore; then verify.",
            discussion: """
                Decision matrix: P0 --mode full (app + database, 5-10 min); P1 --mode app (2-5 min); P2 --to N (migrations to a version, 10-15 min); P3: fix forward instead. Every destructive step asks for typed confirmation (--confirm ENV on protected environments).

                --mode full without --to/--steps goes back to the last release before the current one whose verify passed (the history 'opsctl deploy record' keeps; --release picks another): the app with service.release.rollback_command ({release} is the release id), the schema down to that release's version, then verify is watched for --watch (default 10m).

                Examples:
                  opsctl rollback --status --env production
                  opsctl rollback --mode full --env production --confirm production
                  opsctl rollback --mode full --release 2026.11.28-1 --env production --watch 30m
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

        @Option(name: .long, help: "full, app, migrations, restore or status (default: migrations with --to/--steps, full with --release, else status).")
        var mode: String?

        @Option(name: .long, help: "Release to roll back to (modes full and app; default for --mode full: the last good release).")
        var release: String?

        @Flag(name: .long, help: "One screen: current release, its schema version against the database's, the last good release, health.")
        var status = false

        @Flag(name: .long, help: "After a rollback to a release, do not watch verify.")
        var noWatch = false

        @Option(name: .long, help: "Backup file for --mode restore: pg_dump custom format or plain SQL (pg_dump > backup.sql), a path or a name in backups.dir.")
        var backup: String?

        @Option(name: .long, help: "Application rollback command (default: service.release.rollback_command for a release, else rollback_command of the environment).")
        var appCommand: String?

        @Option(name: .long, help: "Migration directory (default: the environment's).")
        var dir: String?

        @OptionGroup var global: GlobalOptions

        @OptionGroup var watch: WatchOptions

        var effectiveMode: String { mode ?? ((to != nil || steps != nil) ? "migrations" : (release != nil ? "full" : "status")) }

        /// A rollback to a release from the history (rather than to a migration version).
        var toRelease: Bool { (effectiveMode == "full" && to == nil && steps == nil) || release != nil }

        func validate() throws {
            guard ["full", "app", "migrations", "restore", "status"].contains(effectiveMode) else {
                throw ValidationError("--mode must be full, app, migrations, restore or status")
            }
            if status && (mode != nil || to != nil || steps != nil || release != nil || backup != nil) {
                throw ValidationError("--status shows where things stand; it takes none of --mode, --to, --steps, --release, --backup")
            }
            if effectiveMode == "migrations" && (to == nil) == (steps == nil) {
                throw ValidationError("--mode migrations needs exactly one of --to VERSION or --steps N")
            }
            if effectiveMode == "full" && to != nil && steps != nil { throw ValidationError("--to and --steps exclude each other") }
            if release != nil && (to != nil || steps != nil) {
                throw ValidationError("--release rolls the schema back to that release's version: drop --to/--steps")
            }
            if release != nil && !["full", "app"].contains(effectiveMode) { throw ValidationError("--release goes with --mode full or app") }
            if noWatch && watch.watch != nil { throw ValidationError("--no-watch and --watch exclude each other") }
            try FlagCheck.range(to, "--to", 0...Int.max)
            try FlagCheck.range(steps, "--steps", 1...10_000)
            if effectiveMode == "restore" && backup == nil { throw ValidationError("--mode restore needs --backup FILE") }
        }

        func run() throws {
            let service = RunService(global: global)
            let (_, env) = try service.environment()
            if status {
                try service.run("rollback-status", params: MigrationParams.of(env, dir: dir), verb: "rollback --status")
            }
            // service.release.rollback_command names a release ({release}): only a rollback to a release uses it.
            let command = toRelease ? (appCommand ?? env.service.release.rollbackCommand ?? env.rollbackCommand)
                : (appCommand ?? env.rollbackCommand)
            if ["full", "app"].contains(effectiveMode) && command == nil {
                let release = env.service.release.rollbackCommand == nil ? "" : ", or pass --release ID to use service.release.rollback_command"
                Terminal.error("--mode \(effectiveMode) needs the application rollback command: set rollback_command for '\(env.name)' (or service.release.rollback_command) in opsctl.yaml, or pass --app-command\(release)")
                throw ExitCode(64)
            }
            var params: [String: JSONValue] = ["mode": .string(effectiveMode), "dir": .string(dir ?? env.migrationsDir ?? "migrations")]
            if let to { params["to"] = .int(to) }
            if let steps { params["steps"] = .int(steps) }
            if let backup { params["backup"] = .string(backup) }
            if let command { params["app_command"] = .string(ReleaseSettings.bind(command)) }
            if let pattern = env.migrationsDownPattern { params["down_pattern"] = .string(pattern) }
            if let table = env.migrationsTable { params["table"] = .string(table) }
            guard toRelease else { try service.run("rollback", params: params, verb: "rollback") }

            let choice = try service.rollbackTarget(env, release: release)
            params["release"] = .string(choice.target.release)
            params["requested_release"] = .string(release ?? "")
            if effectiveMode == "full" {
                if let version = choice.target.schemaVersion {
                    params["to"] = .int(version)
                } else {
                    Terminal.note("\(choice.target.release) was recorded without a migration history: rolling back the application only")
                    params["mode"] = "app"
                }
            }
            do {
                try service.run("rollback", params: params, verb: "rollback")
            } catch let code as ExitCode where code.rawValue == 0 {
                try watchVerify(env, release: choice.target.release)
            }
        }

        /// After a rollback to a release: verify again and again for --watch (default 10m), one report.
        /// verify's metrics look back over a short window (2 x --every, at least a minute) rather than 15
        /// minutes, and a step fails the watch only when it stays red longer than that window (unless
        /// --tolerate says otherwise): the errors of the release rolled back from leave the window by then.
        /// The newer migrations of that release stay pending, which is no failure here.
        func watchVerify(_ env: EnvironmentConfig, release: String) throws -> Never {
            if noWatch || global.dryRun || env.baseURL == nil {
                let why = noWatch ? "--no-watch" : global.dryRun ? "dry run" : "no base_url for '\(env.name)'"
                Terminal.note("not watching verify (\(why)); check with 'opsctl verify --env \(env.name) --watch 10m'")
                throw ExitCode(0)
            }
            let every = watch.every.flatMap(DurationText.seconds) ?? 30
            let window = Int(max(60, (2 * every).rounded(.up)))
            var args = ["--watch", watch.watch ?? "10m", "--every", watch.every ?? "30s", "--tolerate", watch.tolerate ?? "\(window)s"]
            if watch.untilOk { args.append("--until-ok") }
            if watch.untilFail { args.append("--until-fail") }
            let options = try WatchOptions.parse(args)
            Terminal.note("rolled back to \(release); watching verify for \(args[1]) every \(args[3]) (metrics over the last \(window)s, red tolerated for \(args[5]))")
            var params = MigrationParams.of(env, dir: dir)
            params["roundtrip"] = .bool(true)
            params["fail_on_pending"] = .bool(false)
            params["window"] = .string("\(window) seconds")
            try RunService(global: global, watch: options).run("verify", params: params, verb: "verify")
        }
    }
}
