/// Rows of a statement, decoded eagerly (opsctl reads small result sets).
public struct QueryResult: Sendable {
    public struct Column: Sendable {
        public var name: String
        public var typeOID: UInt32
    }

    public var columns: [Column]
    public var rows: [Row]
    /// Rows affected by INSERT/UPDATE/DELETE (PQcmdTuples), 0 otherwise.
    public var affectedRows: Int
    public var commandTag: String

    public var first: Row? { rows.first }
}

/// A result row, addressable by column name or index.
public struct Row: Sendable {
    public var columnNames: [String]
    public var values: [PostgresValue]

    public subscript(_ name: String) -> PostgresValue {
        guard let i = columnNames.firstIndex(of: name) else { return .null }
        return values[i]
    }

    public subscript(_ index: Int) -> PostgresValue { index < values.count ? values[index] : .null }
}
