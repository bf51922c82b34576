import Foundation
import Postgres
import Support

/// The Postgres client programs a backup needs (pg_dump, pg_restore, psql), run as children of the
/// step: stopped with it, their output masked, the password passed in PGPASSWORD, never on the command line.
struct BackupTools {
    let context: StepContext
    let dsn: String

    init(_ context: StepContext) throws {
        guard let dsn = context.environment[context.databaseURLVariable], !dsn.isEmpty else {
            throw StepError("\(context.databaseURLVariable) is not set",
                            details: ["next_step": .string("export \(context.databaseURLVariable)=postgresql://user@host/db")])
        }
        self.context = context
        self.dsn = dsn
    }

    func client(database: String? = nil) throws -> ClientConnection {
        do { return try ClientConnection(dsn: dsn, database: database, applicationName: context.applicationName) } catch {
            throw StepError("\(error)")
        }
    }

    /// Fails like the real run would when a program is missing (dry-runs call this too).
    static func require(_ programs: [String]) throws {
        for program in programs where ProcessRunner.which(program) == nil {
            throw StepError("\(program) not found on PATH: install the Postgres client tools (Debian: postgresql-client)")
        }
    }

    /// Runs a command; throws with its last stderr line (masked) when it fails or is stopped.
    @discardableResult
    func run(_ arguments: [String], client: ClientConnection, what: String) throws -> ProcessOutput {
        var environment = context.environment
        for (key, value) in client.environment { environment[key] = value }
        let cancellation = ProcessCancellation()
        context.cancellation.onCancel { cancellation.cancel(grace: 2) }
        let out = try ProcessRunner.run(arguments, environment: environment, cancellation: cancellation)
        if out.cancelled { throw StepError("\(what) stopped: \(context.cancellation.reason ?? "cancelled")") }
        guard out.exitCode == 0 else {
            let stderr = SecretMasker.shared.mask(out.stderr)
            let last = stderr.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) ?? ""
            throw StepError("\(what) failed (exit \(out.exitCode)): \(last.prefix(300))",
                            details: ["stderr": .string(Shell.tail(stderr))])
        }
        return out
    }

    /// pg_dump of the environment's database into `file`, reading the exported `snapshot` when given so
    /// the dump holds exactly the rows the manifest counted.
    func dump(to file: String, format: String, snapshot: String?) throws {
        let conn = try client()
        var args = ["pg_dump", "--format=\(format == "plain" ? "plain" : "custom")", "--file=\(file)"]
        if let snapshot { args.append("--snapshot=\(snapshot)") }
        try run(args + ["--dbname=\(conn.conninfo)"], client: conn, what: "pg_dump")
    }

    /// Restores into an empty scratch database: pg_restore -jN for custom archives, psql for SQL.
    func restoreInto(database: String, file: String, format: String, jobs: Int) throws {
        let conn = try client(database: database)
        if format == "custom" {
            try run(["pg_restore", "--jobs=\(max(1, jobs))", "--exit-on-error", "--no-owner", "--dbname=\(conn.conninfo)", "--", file],
                    client: conn, what: "pg_restore")
        } else {
            try run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "--dbname=\(conn.conninfo)", "-f", file],
                    client: conn, what: "psql")
        }
    }

    /// Replaces the environment database's contents with the backup's in ONE transaction: every schema
    /// is dropped, then the dump's SQL runs (a custom archive is turned into SQL by pg_restore on the way).
    /// Killed at any point, the server rolls the transaction back: the database is as it was, and a
    /// rerun starts from scratch. (pg_restore -j cannot run in one transaction; this path is serial.)
    func restoreReplacing(file: String, format: String) throws {
        let conn = try client()
        let psql = "psql -X -q -v ON_ERROR_STOP=1 -o /dev/null --single-transaction --dbname=\"$2\" -c \"$3\" -f -"
        // bash for pipefail: a pg_restore that dies must fail the restore even though psql exits 0.
        let script = format == "custom"
            ? "set -o pipefail; pg_restore --no-owner --file=- -- \"$1\" | \(psql)"
            : "\(psql) < \"$1\""
        try run(["bash", "-c", script, "opsctl-restore", file, conn.conninfo, Self.emptyDatabase],
                client: conn, what: "restore")
    }

    /// Drops every user schema (and what is in it) and recreates `public`, so the dump's CREATEs
    /// meet an empty database. Runs inside the restore's transaction.
    static let emptyDatabase = """
        SET lock_timeout = '60s';
        DO $opsctl$
        DECLARE s name;
        BEGIN
          FOR s IN SELECT nspname FROM pg_namespace
                    WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' LOOP
            EXECUTE format('DROP SCHEMA %I CASCADE', s);
          END LOOP;
          CREATE SCHEMA public;
        END $opsctl$;
        """

    /// Runs an operator's hook (`after_create`, `before_restore`) with `{file}` bound to the
    /// quoted variable "$OPSCTL_BACKUP_FILE": a file name can never become part of the command.
    func hook(_ name: String, _ command: String, file: String) throws -> String {
        let script = command.replacingOccurrences(of: "{file}", with: "\"$OPSCTL_BACKUP_FILE\"")
        var environment = context.environment
        environment["OPSCTL_BACKUP_FILE"] = file
        let cancellation = ProcessCancellation()
        context.cancellation.onCancel { cancellation.cancel(grace: 2) }
        let out = try ProcessRunner.run(["/bin/sh", "-c", script], environment: environment, cancellation: cancellation)
        let output = SecretMasker.shared.mask(out.stdout + out.stderr)
        if out.cancelled { throw StepError("\(name) hook stopped: \(context.cancellation.reason ?? "cancelled")") }
        guard out.exitCode == 0 else {
            let last = output.split(separator: "\n").last.map(String.init) ?? ""
            throw StepError("\(name) hook failed (exit \(out.exitCode)): \(last.prefix(300))",
                            details: ["hook_output": .string(Shell.tail(output))])
        }
        return Shell.tail(output)
    }
}
