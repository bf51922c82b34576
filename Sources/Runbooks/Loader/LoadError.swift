import Foundation

/// An invalid runbook or config file. Always names `file:line:col` and what to do; exit 65.
public struct LoadError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String
    public var hint: String?

    public init(file: String, line: Int = 0, column: Int = 0, message: String, hint: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.hint = hint
    }

    public var location: String { line > 0 ? "\(file):\(line):\(column)" : file }

    public var description: String {
        "\(location): \(message)" + (hint.map { " — \($0)" } ?? "")
    }
}
