/// What the server will make of a statement before it runs, for checks outside the migration runner
/// (`sql.exec`'s dry-run reports what the real run would hit).
extension SQLStatement {
    /// The command Postgres refuses inside a transaction block (SQLSTATE 25001), e.g. `VACUUM`; nil when it runs in one.
    public var transactionBlockRefusal: String? { TransactionSafety.reason(self) }

    /// Whether `EXPLAIN` (without ANALYZE) plans it: queries and DML, whose objects, columns and
    /// parameter types the planner then checks without executing anything.
    public var isExplainable: Bool {
        ["SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"].contains(kind)
    }
}
