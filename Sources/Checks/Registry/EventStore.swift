import Foundation
import Postgres

/// The service's webhook event store (`service.events`): which table and columns hold the events the
/// provider sent and how a row says pending, processed or failed. Every name comes from configuration
/// and reaches SQL quoted (identifiers) or as an escaped literal (state values); never from parameters.
public struct EventStore: Sendable, Equatable {
    /// `table` or `schema.table`.
    public var table: String
    /// The provider's event id (what a replay sends and matches on).
    public var providerID: String
    /// The row's own primary key, when it differs from the provider id.
    public var rowID: String?
    public var type: String?
    public var payload: String
    /// When the row arrived; several columns mean the first that is not NULL.
    public var receivedAt: [String]
    /// When the event happened at the provider (replay's since/until and order); default: receivedAt.
    public var occurredAt: String?
    public var state: State
    public var error: String?
    public var attempts: String?
    /// Column holding the tenant (company, workspace, shop): `replay --company`.
    public var tenant: String?

    /// How a row tells its processing state.
    public enum State: Sendable, Equatable {
        /// A boolean column: true = processed; failed = the error column is set.
        case boolean(column: String)
        /// A text column with one value per state.
        case status(column: String, pending: String, processed: String, failed: String)
        /// A timestamp column: set = processed, NULL = pending; failed = the error column is set.
        case timestamp(column: String)

        public var column: String {
            switch self {
            case let .boolean(c), let .timestamp(c), let .status(c, _, _, _): return c
            }
        }
    }

    public init(table: String, providerID: String, rowID: String? = nil, type: String? = nil, payload: String,
                receivedAt: [String] = [], occurredAt: String? = nil, state: State, error: String? = nil,
                attempts: String? = nil, tenant: String? = nil) {
        self.table = table
        self.providerID = providerID
        self.rowID = rowID
        self.type = type
        self.payload = payload
        self.receivedAt = receivedAt
        self.occurredAt = occurredAt
        self.state = state
        self.error = error
        self.attempts = attempts
        self.tenant = tenant
    }

    // MARK: - SQL fragments (alias: the table's alias in the query, nil = unqualified)

    /// A string literal (standard_conforming_strings: only quotes need doubling).
    public static func literal(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// The table, quoted part by part (`schema.table`).
    public var tableSQL: String { quoteQualifiedName(table) }

    /// The table as a text literal for `to_regclass`.
    public var tableLiteral: String { Self.literal(tableSQL) }

    /// Whether the mapped table exists in the database `db` is connected to.
    func tableExists(_ db: PostgresConnection) throws -> Bool {
        try db.query("SELECT to_regclass(\(tableLiteral)) IS NOT NULL AS present").first?["present"].bool == true
    }

    /// A missing event table is a mapping problem, said as one (with what to run), not a SQL error.
    func requireTable(_ db: PostgresConnection) throws {
        guard try tableExists(db) else {
            throw StepError("table \(table) does not exist: check service.events.table in opsctl.yaml ('opsctl doctor' checks the whole mapping)",
                            details: ["table": .string(table)])
        }
    }

    /// The one summary row of a read-only query over the event table, after `requireTable`: how the
    /// `service.events_*` kinds read what they judge.
    func summaryRow(_ context: StepContext, variable: String?, _ sql: String,
                    _ parameters: [any PostgresBindable] = []) throws -> Postgres.Row? {
        try context.readOnlyQuery(variable: variable) { db in
            try requireTable(db)
            return try db.query(sql, parameters).first
        }
    }

    public func column(_ name: String, _ alias: String?) -> String {
        (alias.map { $0 + "." } ?? "") + quoteIdentifier(name)
    }

    public func providerIDSQL(_ alias: String? = nil) -> String { column(providerID, alias) }
    public func typeSQL(_ alias: String? = nil) -> String { type.map { column($0, alias) + "::text" } ?? "NULL::text" }
    public func payloadSQL(_ alias: String? = nil) -> String { column(payload, alias) + "::text" }
    public func errorSQL(_ alias: String? = nil) -> String {
        if let error { return column(error, alias) + "::text" }
        if case let .status(c, _, _, failed) = state {
            return "CASE WHEN \(column(c, alias)) = \(Self.literal(failed)) THEN \(Self.literal("\(c) = \(failed)")) END"
        }
        return "NULL::text"
    }
    public func tenantSQL(_ alias: String? = nil) -> String? { tenant.map { column($0, alias) + "::text" } }

    public func receivedAtSQL(_ alias: String? = nil) -> String {
        let columns = receivedAt.map { column($0, alias) }
        switch columns.count {
        case 0: return occurredAt.map { column($0, alias) } ?? "NULL::timestamptz"
        case 1: return columns[0]
        default: return "coalesce(\(columns.joined(separator: ", ")))"
        }
    }

    public func occurredAtSQL(_ alias: String? = nil) -> String {
        occurredAt.map { column($0, alias) } ?? receivedAtSQL(alias)
    }

    /// Oldest first, ties by provider id: the order a replay sends in.
    public func orderSQL(_ alias: String? = nil) -> String { "\(occurredAtSQL(alias)), \(providerIDSQL(alias))" }

    /// True when the service has processed the row (NULL for a row that is not there).
    public func processedSQL(_ alias: String? = nil) -> String {
        switch state {
        case let .boolean(c): return column(c, alias)
        case let .status(c, _, processed, _): return "(\(column(c, alias)) = \(Self.literal(processed)))"
        case let .timestamp(c): return "(\(column(c, alias)) IS NOT NULL)"
        }
    }

    /// True when the row waits for processing.
    public func pendingSQL(_ alias: String? = nil) -> String {
        switch state {
        case let .boolean(c): return "(\(column(c, alias)) = false)"
        case let .status(c, pending, _, _): return "(\(column(c, alias)) = \(Self.literal(pending)))"
        case let .timestamp(c): return "(\(column(c, alias)) IS NULL)"
        }
    }

    /// True when processing failed: the failed state value, or (boolean/timestamp models) an error text.
    public func failedSQL(_ alias: String? = nil) -> String {
        switch state {
        case let .status(c, _, _, failed): return "(\(column(c, alias)) = \(Self.literal(failed)))"
        case .boolean, .timestamp: return error.map { "(\(column($0, alias)) IS NOT NULL)" } ?? "false"
        }
    }

    /// The columns the mapping names, for checks that they exist.
    public var columns: [String] {
        var c = [providerID, payload, state.column] + receivedAt
        for optional in [rowID, type, occurredAt, error, attempts, tenant] { if let optional { c.append(optional) } }
        var seen = Set<String>()
        return c.filter { seen.insert($0).inserted }
    }

    public var json: JSONValue {
        var stateJSON: [String: JSONValue] = ["column": .string(state.column)]
        switch state {
        case .boolean: stateJSON["type"] = "bool"
        case .timestamp: stateJSON["type"] = "timestamp"
        case let .status(_, pending, processed, failed):
            stateJSON["type"] = "status"
            stateJSON["pending"] = .string(pending)
            stateJSON["processed"] = .string(processed)
            stateJSON["failed"] = .string(failed)
        }
        var o: [String: JSONValue] = ["table": .string(table), "provider_id": .string(providerID), "payload": .string(payload),
                                      "received_at": .array(receivedAt.map(JSONValue.string)), "state": .object(stateJSON)]
        let optional: [(String, String?)] = [("id", rowID), ("type", type), ("occurred_at", occurredAt), ("error", error),
                                             ("attempts", attempts), ("tenant", tenant)]
        for (key, value) in optional { if let value { o[key] = .string(value) } }
        return .object(o)
    }
}
