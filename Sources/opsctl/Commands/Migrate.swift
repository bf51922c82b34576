import ArgumentParser
import Checks
import Foundation
import Migrations
import Postgres
import Runbooks
import Support

extension Opsctl {
    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate",
            abstract: "Database migrations: status, apply, rollback, verify, lint, rehearse, repair, baseline, new.",
            discussion: """
                Files: NNN_name.sql with a down script (NNN_name.down.sql by default; migrations.down_pattern in opsctl.yaml), or single files with -- migrate:up / -- migrate:down sections. History in opsctl.schema_migrations. SQL is split and analysed by the real Postgres parser (libpg_query).

                Examples:
                  opsctl migrate status --env production
                  opsctl migrate apply --env production --confirm production
                  opsctl migrate apply --to 12 --dry-run
                  opsctl migrate rollback --steps 1 --env staging
                  opsctl migrate lint db/migrations/021_add_index.sql
                  opsctl migrate rehearse                  # in a scratch database: every down restores the schema
                  opsctl migrate repair 14                 # evidence for a failed or partial migration
                  opsctl migrate repair 14 --mark-applied --reason "finished by hand"
                  opsctl migrate baseline --version 21     # adopt a database migrated by another runner
                  opsctl migrate new add_events_source_index
                """,
            subcommands: [Status.self, Apply.self, Rollback.self, Verify.self, Lint.self, Rehearse.self, Repair.self,
                          Baseline.self, New.self])

        struct Files: ParsableArguments {
            @Option(name: .long, help: "Migration directory (default: the environment's migrations.dir, else ./migrations).")
            var dir: String?

            func params(_ env: EnvironmentConfig) -> [String: JSONValue] { MigrationParams.of(env, dir: dir) }
        }

        /// Runs one migration kind as a one-step runbook (journaled, confirmed, locked like any run).
        static func step(_ kind: String, _ id: String, _ title: String, files: Files, global: GlobalOptions,
                         extra: [String: JSONValue] = [:], paths: [String] = []) throws -> Never {
            let service = RunService(global: global)
            let (_, env) = try service.environment()
            try refuseInvalidFiles(dir: files.dir ?? env.migrationsDir ?? "migrations", downPattern: env.migrationsDownPattern,
                                   paths: paths)
            try service.runStep(kind: kind, id: id, title: title, with: files.params(env).merging(extra) { $1 }, runbook: "migrate-\(id)")
        }

        /// A migration file that is unreadable, not UTF-8, or holds NUL or other binary bytes is invalid
        /// input: exit 65 naming file:line:col and the byte offset, before anything connects or runs.
        /// (A missing directory is left to the step, which reports it.)
        static func refuseInvalidFiles(dir: String, downPattern: String?, paths: [String] = []) throws {
            do {
                if !paths.isEmpty {
                    for path in paths { try MigrationFileReader.validate(path) }
                    return
                }
                var config = MigrationConfig(directory: dir)
                if let downPattern { config.downPattern = downPattern }
                _ = try Discovery.load(config)
            } catch let e as MigrationError where e.kind == .invalidInput && e.location != nil {
                Terminal.error("\(e.description)")
                throw ExitCode(65)
            } catch is MigrationError {
                return
            }
        }

        struct Status: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "status", abstract: "Applied, pending, failed, partial, modified, missing, out-of-order and duplicate migrations; exit 1 when anything blocks apply.")
            @OptionGroup var files: Files
            @OptionGroup var global: GlobalOptions
            func run() throws { try Migrate.step(MigrationsStatus.name, "status", "migration status", files: files, global: global) }
        }

        struct Apply: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "apply", abstract: "Status, lint of pending migrations, apply (advisory lock, lock_timeout retries), verify: the shipped migrate runbook.")
            @Option(name: .long, parsing: .unconditional, help: "Apply up to this version.") var to: Int?
            @Option(name: .long, parsing: .unconditional, help: "lock_timeout per statement (retried with backoff).") var lockTimeout: String = "5s"
            @OptionGroup var files: Files
            @OptionGroup var global: GlobalOptions
            func validate() throws {
                try FlagCheck.range(to, "--to", 0...Int.max)
                try FlagCheck.duration(lockTimeout, "--lock-timeout")
            }
            func run() throws {
                // Concurrent appliers queue (behind the runbook lock, then the migration lock) and
                // find nothing left to do, instead of being refused: wait up to 5 minutes by default.
                var global = global
                if global.wait == nil && !global.dryRun { global.wait = "300s" }
                let service = RunService(global: global)
                let (_, env) = try service.environment()
                var params = files.params(env)
                if let to { params["to"] = .int(to) }
                params["lock_timeout"] = .string(lockTimeout)
                let dir = files.dir ?? env.migrationsDir ?? "migrations"
                PhaseClock.mark("config loaded")
                // The steps' session and the migration lock's connect while the files are read and parsed.
                if let dsn = env.env[env.databaseURLEnv] ?? ProcessInfo.processInfo.environment[env.databaseURLEnv], !dsn.isEmpty {
                    Migrator.openSessionsAhead(dsn: dsn, applicationName: "opsctl/migrate", count: global.dryRun ? 1 : 2)
                }
                defer { PostgresSessionPool.closeOpenedAhead() }
                try Migrate.refuseInvalidFiles(dir: dir, downPattern: env.migrationsDownPattern)
                PhaseClock.mark("files read")
                try Self.refuseUnparsable(dir: dir, downPattern: env.migrationsDownPattern, to: to)
                PhaseClock.mark("files parsed")
                try service.run("migrate", params: params, verb: "migrate")
            }

            /// A migration the Postgres parser rejects is invalid input: exit 65 with file:line:col and
            /// SQLSTATE 42601, before anything runs (the exit-code contract), not a failed lint step.
            /// Every script (downs too: lint reads them next) is parsed here, in one batch over the cores.
            static func refuseUnparsable(dir: String, downPattern: String?, to: Int?) throws {
                var config = MigrationConfig(directory: dir)
                if let downPattern { config.downPattern = downPattern }
                guard let set = try? Discovery.load(config) else { return } // the status step reports bad directories
                let ups = set.migrations.filter { m in to.map { m.version <= Int64($0) } ?? true }.map { (sql: $0.up, file: $0.upFile) }
                let downs = set.migrations.compactMap { m in m.down.flatMap { sql in m.downFile.map { (sql: sql, file: $0) } } }
                for case let .failure(e as SQLSyntaxError) in SQLParser.parseAll(ups + downs).prefix(ups.count) {
                    Terminal.error("\(e.description) [SQLSTATE 42601]; nothing was applied — fix the SQL and apply again")
                    throw ExitCode(65)
                }
            }
        }

        struct Rollback: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "rollback", abstract: "Run down scripts newest first to a version or by a number of steps; refuses when a down script is missing.")
            @Option(name: .long, parsing: .unconditional, help: "Roll back every version above this one.") var to: Int?
            @Option(name: .long, parsing: .unconditional, help: "Roll back this many migrations.") var steps: Int?
            @OptionGroup var files: Files
            @OptionGroup var global: GlobalOptions
            func validate() throws {
                try FlagCheck.range(to, "--to", 0...Int.max)
                try FlagCheck.range(steps, "--steps", 1...10_000)
                if (to == nil) == (steps == nil) { throw ValidationError("give exactly one of --to VERSION or --steps N") }
            }
            func run() throws {
                var extra: [String: JSONValue] = [:]
                if let to { extra["to"] = .int(to) }
                if let steps { extra["steps"] = .int(steps) }
                try Migrate.step(MigrationsRollback.name, "rollback", "roll back migrations", files: files, global: global, extra: extra)
            }
        }

        struct Verify: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "verify", abstract: "The tables, indexes, columns and functions the applied migrations create exist.")
            @OptionGroup var files: Files
            @OptionGroup var global: GlobalOptions
            func run() throws { try Migrate.step(MigrationsVerify.name, "verify", "schema matches the applied migrations", files: files, global: global) }
        }

        struct Lint: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "lint", abstract: "Lint migrations from the parse tree (squawk's rules plus repository rules); -- opsctl:ignore RULE suppresses one.")
            @Argument(help: "Files to lint (default: every migration in the directory).") var paths: [String] = []
            @Flag(name: .long, help: "Only migrations not yet applied (needs the database).") var pendingOnly = false
            @OptionGroup var files: Files
            @OptionGroup var global: GlobalOptions
            func run() throws {
                var extra: [String: JSONValue] = [:]
                if !paths.isEmpty { extra["files"] = .array(paths.map { .string(URL(fileURLWithPath: $0).standardized.path) }) }
                if pendingOnly { extra["pending_only"] = .bool(true) }
                try Migrate.step(MigrationsLint.name, "lint", "lint migrations", files: files, global: global, extra: extra,
                                 paths: paths)
            }
        }

        struct Rehearse: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "rehearse", abstract: "In a scratch database: apply all, check each down restores the schema (newest to oldest), re-apply. For CI.")
            @Option(name: .long, help: "Env var with the URL of a server to rehearse on (needs CREATEDB; default: the database URL's server).")
            var serverURLEnv: String?
            @OptionGroup var files: Files
            @OptionGroup var global: GlobalOptions
            func run() throws {
                var extra: [String: JSONValue] = [:]
                if let serverURLEnv { extra["server_url_env"] = .string(serverURLEnv) }
                try Migrate.step(MigrationsRehearse.name, "rehearse", "rehearse migrations", files: files, global: global, extra: extra)
            }
        }

        struct Repair: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "repair", abstract: "Evidence for a failed or partial migration; with --mark-applied / --mark-rolled-back, record the decision (confirmed, journaled).")
            @Argument(help: "Migration version.") var version: Int
            @Flag(name: .long, help: "Record it as applied (you finished it by hand).") var markApplied = false
            @Flag(name: .long, help: "Record it as not applied (you undid it by hand).") var markRolledBack = false
            @Option(name: .long, help: "Why, kept in the history's event log.") var reason: String?
            @OptionGroup var files: Files
            @OptionGroup var global: GlobalOptions
            func validate() throws {
                if markApplied && markRolledBack { throw ValidationError("choose one of --mark-applied and --mark-rolled-back") }
            }
            func run() throws {
                var extra: [String: JSONValue] = ["version": .int(version)]
                if markApplied { extra["mark"] = "applied" }
                if markRolledBack { extra["mark"] = "rolled_back" }
                if let reason { extra["reason"] = .string(reason) }
                try Migrate.step(MigrationsRepair.name, "repair", "repair migration \(version)", files: files, global: global, extra: extra)
            }
        }

        struct Baseline: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "baseline", abstract: "Adopt an existing database: record migrations up to a version as applied, or import another runner's history.")
            @Option(name: .long, help: "Record every migration up to this version as applied.") var version: Int?
            @Option(name: .long, help: "Import versions from this table (schema.table) of the old runner.") var importFrom: String?
            @Option(name: .long, help: "Version column of that table (TypeORM's `migrations` table is recognised: its `timestamp` is read).") var column: String = "version"
            @OptionGroup var files: Files
            @OptionGroup var global: GlobalOptions
            func validate() throws {
                if version == nil && importFrom == nil { throw ValidationError("give --version N or --import-from TABLE") }
            }
            func run() throws {
                var extra: [String: JSONValue] = ["column": .string(column)]
                if let version { extra["version"] = .int(version) }
                if let importFrom { extra["import_from"] = .string(importFrom) }
                try Migrate.step(MigrationsBaseline.name, "baseline", "baseline migration history", files: files, global: global, extra: extra)
            }
        }

        struct New: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "new", abstract: "Create the next-numbered migration (up and down) from a template that sets lock and statement timeouts.")
            @Argument(help: "Name, e.g. add_events_source_index.") var name: String
            @Flag(name: .long, help: "One file with -- migrate:up / -- migrate:down sections.") var single = false
            @OptionGroup var files: Files
            @OptionGroup var global: GlobalOptions
            /// File names are at most 255 bytes; the version and `.down.sql` need room too.
            static let maxNameLength = 100
            func validate() throws {
                if name.utf8.count > Self.maxNameLength {
                    throw ValidationError("the migration name is \(name.utf8.count) bytes long; use at most \(Self.maxNameLength), e.g. add_events_source_index")
                }
            }
            func run() throws {
                let service = RunService(global: global)
                let (_, env) = try service.environment()
                var config = MigrationConfig(directory: env.migrationsDir ?? "migrations")
                if let dir = files.dir { config.directory = dir }
                if let pattern = env.migrationsDownPattern { config.downPattern = pattern }
                do {
                    for path in try NewMigration.create(name: name, config: config, single: single) { print(path) }
                } catch let error as MigrationError {
                    Terminal.error(error.description)
                    throw ExitCode(error.exitCode)
                } catch {
                    Terminal.error(FileErrorText.describe(error, doing: "create the migration in", path: config.directory))
                    throw ExitCode(1)
                }
            }
        }
    }
}
