import Foundation
import Postgres

/// Checks the declared `service:` mapping against the live database and environment, read-only: the
/// event table and every named column exist, status values are ones the table's CHECK constraint
/// allows, the signing secret is set. Says exactly what to change in opsctl.yaml or the database.
public struct ServiceDoctor: StepKind {
    public static let name = "service.doctor"
    public static let summary = "Check opsctl.yaml's service mapping against the database: event table, columns, state values, signing secret"
    public static let parameters: [ParameterSpec] = [
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
    ]
    public static let mutates = false
    public static let example = """
        - id: mapping
          kind: service.doctor
        """

    let variable: String?

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        var problems: [String] = []
        var checked: [String] = []
        if let provider = context.service.provider, let secret = provider.secretEnv ?? context.webhookSecretVariable {
            if context.environment[secret]?.isEmpty ?? true {
                problems.append("\(secret) is not set: export the \(provider.scheme ?? context.webhookScheme) signing secret (service.provider.secret_env names it)")
            } else {
                checked.append("secret \(secret) set")
            }
        }
        guard let store = context.service.events else {
            if problems.isEmpty { return .ok("no service.events declared: nothing to check in the database" + (checked.isEmpty ? "" : "; \(checked.joined(separator: ", "))")) }
            return .init(.fail, problems.joined(separator: "; "), details: ["problems": .array(problems.map(JSONValue.string))])
        }
        try context.readOnlyQuery(variable: variable) { db in
            guard let regclass = try db.query("SELECT to_regclass(\(store.tableLiteral))::oid::bigint AS oid").first?["oid"].int else {
                problems.append("table \(store.table) does not exist: fix service.events.table (schema.table if it is not on the search_path)")
                return
            }
            let columns = Dictionary(uniqueKeysWithValues: try db.query("""
                SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute
                 WHERE attrelid = $1::bigint::oid AND attnum > 0 AND NOT attisdropped
                """, [regclass]).rows.compactMap { row in row["attname"].string.map { ($0, row["type"].string ?? "") } })
            for column in store.columns where columns[column] == nil {
                let hint = closest(to: column, in: Array(columns.keys)).map { " (did you mean '\($0)'?)" } ?? ""
                problems.append("\(store.table) has no column \(column)\(hint): fix the service.events key naming it")
            }
            checked.append("\(store.table): \(store.columns.count) columns present")
            switch store.state {
            case let .boolean(c) where columns[c] != nil && columns[c] != "boolean":
                problems.append("state column \(c) is \(columns[c]!), not boolean: declare state { column: \(c), pending: …, processed: …, failed: … } (status) or type: timestamp")
            case let .status(c, pending, processed, failed) where columns[c] != nil:
                let checks = try db.query("""
                    SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
                     WHERE conrelid = $1::bigint::oid AND contype = 'c'
                       AND (SELECT attnum FROM pg_attribute WHERE attrelid = $1::bigint::oid AND attname = $2) = ANY(conkey)
                    """, [regclass, c]).rows.compactMap { $0["def"].string }
                if !checks.isEmpty {
                    let allowed = checks.joined(separator: " ")
                    for value in [pending, processed, failed] where !allowed.contains(EventStore.literal(value)) {
                        problems.append("state value '\(value)' is not allowed by \(store.table)'s CHECK on \(c) (\(checks.joined(separator: "; "))): fix service.events.state")
                    }
                    checked.append("state values allowed by the CHECK constraint")
                }
            default: break
            }
        }
        let details: [String: JSONValue] = ["problems": .array(problems.map(JSONValue.string)), "checked": .array(checked.map(JSONValue.string)),
                                            "mapping": context.service.json]
        guard problems.isEmpty else {
            return .init(.fail, "\(problems.count) problem(s) in the service mapping — \(problems[0])", details: details)
        }
        return .ok("service mapping matches the database: \(checked.joined(separator: "; "))", details: details)
    }
}
