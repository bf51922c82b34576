import Checks
import Foundation
import Support

// The human format goes to a terminal: user data in it (command output, log lines, HTTP bodies,
// SQL values) must not carry escape sequences the terminal would obey. Structured formats keep
// the data as it was (their encoders escape control characters).

extension RunReport {
    /// A copy with every string made safe to print on a terminal (`TerminalText.sanitize`).
    public func sanitizedForTerminal() -> RunReport {
        var copy = self
        copy.runbook = TerminalText.sanitize(runbook)
        copy.environment = environment.map { TerminalText.sanitize($0) }
        copy.aborted = aborted.map { TerminalText.sanitize($0) }
        copy.results = results.map { $0.sanitizedForTerminal() }
        return copy
    }
}

extension StepResult {
    public func sanitizedForTerminal() -> StepResult {
        var copy = self
        copy.title = TerminalText.sanitize(title)
        copy.message = TerminalText.sanitize(message)
        copy.remediation = remediation.map { TerminalText.sanitize($0) }
        copy.details = details.mapValues { $0.sanitizedForTerminal() }
        return copy
    }
}

extension JSONValue {
    public func sanitizedForTerminal() -> JSONValue {
        switch self {
        case let .string(s): return .string(TerminalText.sanitize(s))
        case let .array(a): return .array(a.map { $0.sanitizedForTerminal() })
        case let .object(o):
            return .object(Dictionary(o.map { (TerminalText.sanitize($0.key), $0.value.sanitizedForTerminal()) },
                                      uniquingKeysWith: { first, _ in first }))
        default: return self
        }
    }
}
