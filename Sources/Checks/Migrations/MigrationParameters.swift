import Foundation
import Migrations

/// Parameters shared by the `migrations.*` kinds, and the conversions between the engine and step results.
struct MigrationParameters: Sendable {
    static let specs: [ParameterSpec] = [
        .init("dir", .string, default: "migrations", "migration directory"),
        .init("down_pattern", .string, default: .string(MigrationConfig.defaultDownPattern),
              "where the down script of NNN_name.sql lives: {version}_{name}.down.sql, {version}_rollback.sql, rollback/{version}_{name}.sql"),
        .init("table", .string, default: .string(MigrationConfig.defaultTable), "history table (schema.table)"),
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
    ]
    static let runSpecs: [ParameterSpec] = [
        .init("lock_timeout", .duration, default: "5s", "lock_timeout per statement; on timeout the migration is retried with backoff"),
        .init("statement_timeout", .duration, default: "5m", "statement_timeout per statement"),
        .init("lock_retries", .int, default: 3, "extra attempts after a lock timeout"),
        .init("lock_wait", .duration, default: "5m", "how long to wait for another applier's migration lock"),
    ]

    var config: MigrationConfig
    var variable: String?

    init(_ p: StepParameters) throws {
        config = MigrationConfig(directory: try p.string("dir", default: "migrations"),
                                 downPattern: try p.string("down_pattern", default: MigrationConfig.defaultDownPattern),
                                 table: try p.string("table", default: MigrationConfig.defaultTable),
                                 lockTimeoutMs: Int(try p.duration("lock_timeout", default: 5) * 1000),
                                 statementTimeoutMs: Int(try p.duration("statement_timeout", default: 300) * 1000),
                                 lockRetries: try p.int("lock_retries", default: 3),
                                 allowOutOfOrder: try p.bool("allow_out_of_order", default: false),
                                 lockWait: try p.duration("lock_wait", default: 300))
        variable = try p.optionalString("database_url_env")
    }

    /// The engine for this step's database (application_name from the context).
    func migrator(_ context: StepContext) throws -> Migrator {
        var c = config
        c.applicationName = context.applicationName
        return try Migrator(config: c, dsn: try Self.dsn(context, variable), cancellation: context.cancellation,
                            sessions: context.sessions)
    }

    static func dsn(_ context: StepContext, _ variable: String?) throws -> String {
        let name = variable ?? context.databaseURLVariable
        guard let dsn = context.environment[name], !dsn.isEmpty else {
            throw StepError("\(name) is not set", details: ["database_url_env": .string(name)])
        }
        return dsn
    }

    /// Runs `body`, turning engine errors into step errors that keep file:line:col and SQLSTATE.
    static func guarded<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as MigrationError { throw StepError(e.description, details: details(e)) }
    }

    static func details(_ e: MigrationError) -> [String: JSONValue] {
        var d: [String: JSONValue] = ["error_kind": .string(e.kind.rawValue)]
        if let l = e.location {
            d["file"] = .string(l.file)
            d["line"] = .int(l.line)
            d["column"] = .int(l.column)
        }
        if let s = e.sqlState { d["sqlstate"] = .string(s) }
        if let v = e.version { d["version"] = .int(Int(v)) }
        if let i = e.statementIndex { d["statement_index"] = .int(i) }
        if let s = e.statement { d["statement"] = .string(s) }
        if let n = e.nextStep { d["next_step"] = .string(n) }
        return d
    }

    static func json(_ r: MigrationRunReport) -> [String: JSONValue] {
        let planned: [JSONValue] = r.planned.map { p in
            var o: [String: JSONValue] = ["version": .int(Int(p.version)), "name": .string(p.name), "file": .string(p.file)]
            o["transactional"] = .bool(p.transactional)
            o["non_transactional_reason"] = p.nonTransactionalReason.map(JSONValue.string) ?? .null
            return .object(o)
        }
        let completed: [JSONValue] = r.completed.map { c in
            var o: [String: JSONValue] = ["version": .int(Int(c.version)), "name": .string(c.name), "file": .string(c.file)]
            o["duration_ms"] = .int(c.durationMs)
            o["statements"] = .int(c.statements)
            o["transactional"] = .bool(c.transactional)
            o["attempts"] = .int(c.attempts)
            return .object(o)
        }
        var d: [String: JSONValue] = ["direction": .string(r.direction.rawValue), "current_version": .int(Int(r.currentVersion))]
        d["planned"] = .array(planned)
        d["completed"] = .array(completed)
        if let w = r.waitedFor { d["waited_for_pid"] = .int(w.pid) }
        if let f = r.failure { d["failure"] = .object(details(f).merging(["message": .string(f.description)]) { a, _ in a }) }
        return d
    }

    /// The outcome of an apply or rollback: fail when a migration failed, with its location.
    static func outcome(_ r: MigrationRunReport) -> StepOutcome {
        let metrics = [Metric(name: r.direction == .up ? "migrations_applied" : "migrations_rolled_back",
                              value: Double(r.completed.count), unit: "count"),
                       Metric(name: "schema_version", value: Double(r.currentVersion))]
        if let f = r.failure {
            return .init(f.kind == .lockHeld || f.kind == .interrupted ? .error : .fail, r.message, details: json(r), metrics: metrics)
        }
        return .ok(r.message, details: json(r), metrics: metrics)
    }
}
