import Foundation

/// One row of the history table: a version that was applied, failed, or stopped part way.
public struct HistoryEntry: Sendable {
    public enum State: String, Sendable { case applied, failed, partial }

    public var version: Int64
    public var name: String
    public var checksumUp: String
    public var checksumDown: String?
    public var state: State
    public var appliedAt: Date?
    public var appliedBy: String
    public var durationMs: Int?
    public var executionOrder: Int?
    /// Statements completed (non-transactional migrations record their progress).
    public var statementsDone: Int
    public var statementsTotal: Int?
    public var error: String?
    public var sqlState: String?
    /// 0-based index of the failing statement.
    public var errorStatement: Int?
}
