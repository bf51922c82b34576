import Foundation

/// The environment variables that turn on opsctl's performance diagnostics (`OPSCTL_PHASES`,
/// `OPSCTL_TRACE_REPLAY`): one rule for all of them — set, not empty and not `0` is on.
public enum DiagnosticSwitch {
    public static func isOn(_ variable: String) -> Bool {
        ProcessInfo.processInfo.environment[variable].map { !$0.isEmpty && $0 != "0" } ?? false
    }
}
