import ArgumentParser
import Checks
import Runbooks

extension Opsctl {
    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backup",
            abstract: "Database backups: create, list, verify (restore into a scratch database), restore, prune.",
            discussion: """
                Dumps go to backups.dir of opsctl.yaml (default ./backups beside it), each with a manifest (<file>.manifest.json: sha256, size, row counts, schema version, server version). The shipped runbooks are backup-create, backup-list, backup-verify, backup-restore and backup-prune.

                Examples:
                  opsctl backup create --env production --confirm production
                  opsctl backup create --dump-format plain
                  opsctl backup list --format json
                  opsctl backup verify                       # the newest backup
                  opsctl backup verify db-20261124T020000Z.dump
                  opsctl backup restore latest --env staging --confirm staging
                  opsctl backup restore ./backup.sql         # a plain pg_dump > backup.sql file
                  opsctl backup prune --dry-run
                """,
            subcommands: [Create.self, List.self, Verify.self, Restore.self, Prune.self])

        struct Create: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "create", abstract: "pg_dump into the backup directory with a manifest, then the after_create hook.")
            @Option(name: .long, help: "custom (pg_dump -Fc, the default) or plain (SQL).") var dumpFormat: String = "custom"
            @OptionGroup var global: GlobalOptions

            func validate() throws {
                guard ["custom", "plain"].contains(dumpFormat) else { throw ValidationError("--dump-format must be custom or plain") }
            }

            func run() throws { try RunService(global: global).run("backup-create", params: ["format": .string(dumpFormat)]) }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "Backups with age, size, format and schema version (--format json for all fields).")
            @Option(name: .long, help: "Warn when the newest backup is older than this (default 26h).") var ageWarn: String?
            @Option(name: .long, help: "Fail when the newest backup is older than this, or there is none (default 50h).") var ageCrit: String?
            @OptionGroup var global: GlobalOptions

            func validate() throws {
                try FlagCheck.duration(ageWarn, "--age-warn")
                try FlagCheck.duration(ageCrit, "--age-crit")
            }

            func run() throws {
                var params: [String: JSONValue] = [:]
                if let ageWarn { params["age_warn"] = .string(ageWarn) }
                if let ageCrit { params["age_crit"] = .string(ageCrit) }
                try RunService(global: global).run("backup-list", params: params)
            }
        }

        struct Verify: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "verify", abstract: "Restore a backup into a scratch database and check sha256, row counts, schema version and invariants.")
            @Argument(help: "Backup file: a path, a name in the backup directory, or latest.") var file: String = "latest"
            @Option(name: .long, parsing: .unconditional, help: "pg_restore parallel jobs for custom archives.") var jobs: Int = 2
            @OptionGroup var global: GlobalOptions

            func validate() throws { try FlagCheck.range(jobs, "--jobs", 1...64) }

            func run() throws { try RunService(global: global).run("backup-verify", params: ["file": .string(file), "jobs": .int(jobs)]) }
        }

        struct Restore: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "restore",
                abstract: "Replace the database's contents with a backup (custom or plain SQL) in one transaction, after a safety dump; then verify.")
            @Argument(help: "Backup file: a path, a name in the backup directory, or latest.") var file: String
            @Flag(name: .long, help: "Skip the safety dump of the database as it is now.") var noSafetyDump = false
            @OptionGroup var global: GlobalOptions

            func run() throws {
                try RunService(global: global).run("backup-restore", params: ["file": .string(file), "safety_dump": .bool(!noSafetyDump)])
            }
        }

        struct Prune: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "prune", abstract: "Delete the backups backups.keep does not keep (grandfather-father-son); --dry-run lists them.")
            @OptionGroup var global: GlobalOptions

            func run() throws { try RunService(global: global).run("backup-prune") }
        }
    }
}
