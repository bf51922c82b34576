import ArgumentParser
import Checks
import Foundation
import Postgres
import Runbooks
import Support

extension RunService {
    /// The release history of the environment (newest first), from the journal's schema in its database.
    /// No database: exit 1 naming the variable.
    func releaseHistory(_ env: EnvironmentConfig) throws -> [ReleaseEntry] {
        guard let dsn = ProcessInfo.processInfo.environment[env.databaseURLEnv], !dsn.isEmpty else {
            Terminal.error("\(env.databaseURLEnv) is not set: the release history lives in the environment's database (schema opsctl)")
            throw ExitCode(1)
        }
        do {
            let db = try PostgresConnection(dsn: dsn, applicationName: "opsctl/releases", connectTimeout: 5)
            defer { db.close() }
            return try db.readOnly(statementTimeoutMs: 10_000) { try ReleaseStore($0).list(environment: env.name) }
        } catch {
            Terminal.error("cannot read the release history of '\(env.name)': \(SecretMasker.shared.mask("\(error)"))")
            throw ExitCode(1)
        }
    }

    /// The release a full rollback goes back to, said with why before anything runs. None: exit 1 with
    /// what to run (`opsctl deploy record`) — the dry run stops at the same place.
    func rollbackTarget(_ env: EnvironmentConfig, release: String?) throws -> RollbackTarget {
        do {
            let choice = try RollbackTarget.choose(try releaseHistory(env), release: release, environment: env.name)
            Terminal.note("rolling back \(env.name) to " + choice.reason)
            return choice
        } catch let error as StepError {
            Terminal.error(error.message)
            throw ExitCode(1)
        }
    }
}
