import Checks
import Foundation
import Postgres
import Support

/// `database: NAME` on a step (or on an include, for every step of a fragment): the one way to point a
/// step at another database on the environment's server — the scratch copy `backup.verify` restores,
/// for instance. The step's context gets the environment's database URL with only the database name
/// replaced, so every kind honours it (they all read that variable) and the credentials stay where
/// they were: in the environment, never in a runbook, a report or a journal row.
extension StepRunner {
    static func point(_ context: inout StepContext, at template: String, scope: Scope) throws {
        let resolved = try Interpolation.resolve(template, in: scope)
        let name = resolved.string ?? resolved.jsonText
        guard !name.isEmpty else { return }   // `database: ${params.database}` left empty: the environment's own
        guard name.utf8.count <= 63, !name.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw StepError("database '\(name.prefix(80))' is not a Postgres database name (at most 63 bytes, one line)")
        }
        let variable = context.databaseURLVariable
        guard let dsn = context.environment[variable], !dsn.isEmpty else {
            throw StepError("\(variable) is not set: 'database: \(name)' names a database on the environment's server")
        }
        do {
            context.environment[variable] = try ClientConnection(dsn: dsn, database: name, applicationName: context.applicationName).dsn
        } catch {
            throw StepError("\(variable) is not a database URL opsctl can read: \(SecretMasker.shared.mask("\(error)"))")
        }
    }
}
