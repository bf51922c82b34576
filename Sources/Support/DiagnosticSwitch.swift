import Foundation

/// The environment variables that turn on opsctl's performance diagnostics (`OPSCTL_PHASES`,
/// `OPSCTL_TRACE_REPLAY`): one rule for all of them — set, not empty and not `0` is on.
public enum DiagnosticSwitch {
    /// getenv, not `ProcessInfo.environment`: that builds a dictionary of the whole environment, and
    /// the first `PhaseClock.mark` of every run (in `main`) asks.
    public static func isOn(_ variable: String) -> Bool {
        guard let value = getenv(variable) else { return false }
        return value.pointee != 0 && strcmp(value, "0") != 0
    }
}
