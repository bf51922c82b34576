import Postgres
import Support

/// Why a migration command failed: what, where (`file:line:col`), the SQLSTATE, and what to do next.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Bad migration files or parameters (exit 65).
        case invalidInput = "invalid-input"
        /// The database rejected a statement.
        case statementFailed = "statement-failed"
        /// lock_timeout after every retry.
        case lockTimeout = "lock-timeout"
        /// The state of the history forbids the operation (failed/partial/modified entries, missing down).
        case blocked
        /// Another applier held the migration lock for longer than the wait.
        case lockHeld = "lock-held"
        /// Could not connect / lost the connection.
        case connection
        /// Objects the migration should have created are missing after it ran.
        case verification
        /// Stopped by the operator (SIGINT/SIGTERM) or a deadline: the statement in flight was cancelled
        /// on the server and nothing after it ran (exit 2).
        case interrupted
    }

    public var kind: Kind
    public var message: String
    public var location: SourceLocation?
    public var sqlState: String?
    public var version: Int64?
    /// 0-based index of the failing statement in its script.
    public var statementIndex: Int?
    public var statement: String?
    public var nextStep: String?

    public init(_ kind: Kind, _ message: String, location: SourceLocation? = nil, sqlState: String? = nil,
                version: Int64? = nil, statementIndex: Int? = nil, statement: String? = nil, nextStep: String? = nil) {
        self.kind = kind
        self.message = message
        self.location = location
        self.sqlState = sqlState
        self.version = version
        self.statementIndex = statementIndex
        self.statement = statement
        self.nextStep = nextStep
    }

    public var description: String {
        var text = location.map { "\($0): " } ?? ""
        text += message
        if let sqlState { text += " [SQLSTATE \(sqlState)]" }
        if let nextStep { text += "; \(nextStep)" }
        return SecretMasker.shared.mask(text)
    }

    /// The opsctl exit code for this failure (DESIGN.md): 65 bad migration files or input,
    /// 2 another run holds the migration lock or the run was interrupted, 1 anything else.
    public var exitCode: Int32 {
        switch kind {
        case .invalidInput: return 65
        case .lockHeld, .interrupted: return 2
        default: return 1
        }
    }

    static func from(_ error: PostgresError, _ context: String) -> MigrationError {
        let kind: Kind = switch error.kind {
        case .connection, .configuration: .connection
        case .cancelled: .interrupted
        default: .statementFailed
        }
        return MigrationError(kind, "\(context): \(error.message)", sqlState: error.sqlState, nextStep: error.nextStep)
    }
}
