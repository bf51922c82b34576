import ArgumentParser
import Foundation
import Postgres
import Runbooks

extension RunService {
    /// `--baseline-env NAME` and the journal that `baseline: last-ok` / `run:<id>` read.
    func setBaselines(_ options: inout RunOptions, runbook: String) throws {
        if let name = global.baselineEnv {
            do {
                let other = try Config.load(path: global.config).environment(name)
                registerSecrets(other)
                options.baselineEnvironment = other
            } catch let error as LoadError {
                Terminal.error(error.description)
                throw ExitCode(65)
            }
        }
        // Reading recorded runs is not recording one: --no-journal still lets a step compare with them.
        let env = options.environment
        options.recordedRuns = RecordedRuns(runbook: runbook, environment: env.name) {
            Self.journalReader(env, runbook: runbook)
        }
    }

    /// A journal of its own for reading (the run's journal writes on its connection meanwhile).
    static func journalReader(_ env: EnvironmentConfig, runbook: String) -> RunJournal? {
        if let dsn = ProcessInfo.processInfo.environment[env.databaseURLEnv], !dsn.isEmpty,
           let connection = try? PostgresConnection(dsn: dsn, applicationName: "opsctl/\(runbook)/baseline", connectTimeout: 3),
           let journal = try? PostgresJournal(connection: connection) {
            return journal
        }
        return FileJournal()
    }
}
