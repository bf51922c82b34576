import Foundation
import Support

/// An error from the database layer. Its text never contains a password or a full connection string.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case configuration   // DSN missing or malformed
        case connection      // could not connect / connection lost
        case query           // server rejected a statement
        case timeout         // statement_timeout or lock_timeout fired
        case cancelled       // cancelled by opsctl (step timeout, interrupt)
        case decode          // value could not be decoded to the requested type
    }

    public var kind: Kind
    public var message: String
    /// Where: `user@host:port/db`, never the password.
    public var endpoint: String?
    public var sqlState: String?
    public var severity: String?
    public var detail: String?
    public var hint: String?
    /// 1-based character offset into the statement (PG_DIAG_STATEMENT_POSITION).
    public var position: Int?
    /// What the operator should check next.
    public var nextStep: String?

    public init(kind: Kind, message: String, endpoint: String? = nil, sqlState: String? = nil,
                severity: String? = nil, detail: String? = nil, hint: String? = nil,
                position: Int? = nil, nextStep: String? = nil) {
        self.kind = kind
        self.message = message
        self.endpoint = endpoint
        self.sqlState = sqlState
        self.severity = severity
        self.detail = detail
        self.hint = hint
        self.position = position
        self.nextStep = nextStep
    }

    public var description: String {
        var text = ""
        if let endpoint { text += "\(endpoint): " }
        text += message
        if let sqlState { text += " [SQLSTATE \(sqlState)]" }
        if let detail, !detail.isEmpty { text += " — \(detail)" }
        if let hint, !hint.isEmpty { text += " (hint: \(hint))" }
        if let nextStep { text += "; \(nextStep)" }
        // One line, always: server details (deadlock reports, libpq notices) can span several.
        let oneLine = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        return SecretMasker.shared.mask(oneLine)
    }

    /// lock_not_available (lock_timeout) and query_canceled (statement_timeout or cancel).
    public var isLockTimeout: Bool { sqlState == "55P03" }
    public var isStatementTimeout: Bool { sqlState == "57014" && kind == .timeout }
}
