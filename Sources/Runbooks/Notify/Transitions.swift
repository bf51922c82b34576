import Checks
import Foundation

/// A step that changed side between two runs of the same runbook in the same environment:
/// ok/warn → fail/error (an incident starts) or back (it resolves).
public struct Transition: Sendable, Equatable {
    public enum Direction: String, Sendable { case trigger, resolve }

    public var direction: Direction
    public var step: StepResult
    /// The status in the previous run (`ok` when the step did not run then).
    public var from: StepStatus

    /// Incidents are keyed by runbook, environment and step: the same check failing again is the same incident.
    public static func key(runbook: String, environment: String?, step: String) -> String {
        "opsctl/\(runbook)/\(environment ?? "default")/\(step)"
    }

    /// Each step's last known status from earlier reports (newest first): the newest run in which the
    /// step really ran — a run of other steps (`--step`) or a dry run says nothing about it.
    public static func lastKnown(_ reports: [RunReport]) -> [String: StepStatus] {
        var known: [String: StepStatus] = [:]
        for report in reports where !report.dryRun && report.aborted == nil {
            for step in report.results where step.status != .skipped && known[step.id] == nil { known[step.id] = step.status }
        }
        return known
    }

    /// The transitions from the last known statuses to `current` (a step never seen before counts as ok).
    /// Skipped steps (not selected, blocked, dry-run) say nothing about health and change nothing.
    public static func between(before: [String: StepStatus], current: RunReport) -> [Transition] {
        current.results.compactMap { step in
            guard step.status != .skipped else { return nil }
            let was = before[step.id] ?? .ok
            switch (was.isFailure, step.status.isFailure) {
            case (false, true): return Transition(direction: .trigger, step: step, from: was)
            case (true, false): return Transition(direction: .resolve, step: step, from: was)
            default: return nil
            }
        }
    }
}
