import Foundation
import Postgres

extension StepContext {
    /// Opens a connection for a step: DSN from `variable` (default: the environment's database
    /// variable), application_name `opsctl/<runbook>/<step>`, cancelled with the step.
    public func connect(variable: String? = nil, connectTimeout: Int = 5) throws -> PostgresConnection {
        if cancellation.isCancelled { throw StepError("cancelled before connecting") }
        let name = (variable?.isEmpty == false ? variable : nil) ?? databaseURLVariable
        if let dsn = environment[name], !dsn.isEmpty, let ahead = PostgresSessionPool.takeOpenedAhead(dsn) {
            // Opened while the runbook loaded (a verb that knows its step connects: RunService.run); named
            // for this step now. A session that fails that is closed, and a new one is opened below.
            if (try? ahead.query("SELECT set_config('application_name', $1, false)", [applicationName])) != nil {
                cancellation.onCancel { ahead.cancel() }
                return ahead
            }
            ahead.close()
        }
        do {
            let connection = try PostgresConnection(environmentVariable: name, environment: environment,
                                                    applicationName: applicationName, connectTimeout: connectTimeout)
            cancellation.onCancel { connection.cancel() }
            return connection
        } catch let error as PostgresError {
            throw StepError(error.description, details: ["database": .string(error.endpoint ?? name)])
        }
    }

    /// Connects, runs `body` in a READ ONLY transaction with a statement timeout, closes.
    public func readOnlyQuery<T>(variable: String? = nil, statementTimeoutMs: Int = 10_000,
                                 _ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try connect(variable: variable)
        defer { connection.close() }
        do {
            return try connection.readOnly(statementTimeoutMs: statementTimeoutMs, body)
        } catch let error as PostgresError {
            throw StepError(error.description, details: ["sqlstate": error.sqlState.map(JSONValue.string) ?? .null])
        }
    }
}
