import Checks
import Foundation

/// A loaded, validated runbook: params and steps with their source positions.
public struct Runbook: Sendable {
    public var name: String
    public var description: String
    /// File it came from (for messages and the journal).
    public var file: String
    public var params: [RunbookParam]
    /// Param values after binding: given values converted to their declared types, defaults filled in.
    public var values: [String: JSONValue]
    public var steps: [Step]
    /// Which concurrent runs exclude each other (see `RunLock`).
    public var lock: RunLock = .runbook

    public func step(_ id: String) -> Step? { steps.first { $0.id == id } }

    /// A one-step runbook for verbs that are a single action.
    public static func single(kind: String, id: String, title: String, with parameters: [String: JSONValue], name: String) -> Runbook {
        let mutates = StepRegistry.kind(named: kind).map { RunbookLoader.mutates($0, with: parameters) } ?? false
        let step = Step(id: id, kind: kind, title: title, with: parameters, needs: [], when: nil, retry: .once, timeout: 60,
                        always: false, continueOnFailure: false, confirm: false, remediation: nil, mutates: mutates,
                        included: nil, line: 0, column: 0)
        return Runbook(name: name, description: title, file: "<opsctl \(name)>", params: [], values: [:], steps: [step])
    }

    /// Steps that change something (and so need confirmation on protected environments).
    public var mutatingSteps: [Step] { steps.filter(\.mutates) }
}

/// The advisory lock a run takes before its first mutating step, per environment.
public enum RunLock: Sendable, Equatable {
    /// One run of this runbook at a time (the default).
    case runbook
    /// Runs with the same key exclude each other: `lock: migrate-${params.target}`.
    case named(String)
    /// No runbook lock: the steps coordinate themselves (replay workers share claimed work).
    case none
}

public struct RunbookParam: Sendable {
    public var name: String
    public var type: ParameterType
    public var defaultValue: JSONValue?
    public var required: Bool
    public var description: String
}

/// Retry policy: `attempts` total tries, `delay` before the second, multiplied by `backoff` each time.
public struct RetryPolicy: Sendable, Equatable {
    public var attempts: Int
    public var delay: Double
    public var backoff: Double
    /// Retry until this condition holds (evaluated with `status`, `message`, `details` of the attempt).
    public var until: Condition?

    public static let once = RetryPolicy(attempts: 1, delay: 0, backoff: 1, until: nil)
}

public struct Step: Sendable {
    public var id: String
    public var kind: String
    public var title: String
    /// Parameters as written; `${...}` is resolved when the step starts.
    public var with: [String: JSONValue]
    public var needs: [String]
    public var when: Condition?
    public var retry: RetryPolicy
    public var timeout: Double?
    public var always: Bool
    public var continueOnFailure: Bool
    /// Ask for typed confirmation right before this step.
    public var confirm: Bool
    public var remediation: String?
    public var mutates: Bool
    /// For `kind: runbook`: the included runbook, loaded and validated with the parent.
    public var included: IncludedRunbook?
    public var line: Int
    public var column: Int
    /// The `for_each` item this step was expanded for: code parameters bind `${item}` at run time.
    public var item: JSONValue? = nil
    /// What this step does when a step it needs was skipped by its `when:` (`if_needs_skipped:`).
    public var ifNeedsSkipped: IfNeedsSkipped = .skip
    /// A step spliced in by `include:` runs with its fragment's params (over the includer's), not the runbook's.
    public var scopeParams: [String: JSONValue]? = nil
    /// The fragment file an included step came from.
    public var includedFrom: String? = nil
    /// `database: NAME`: the step runs against this database on the environment's server instead of
    /// the environment's own (`${...}` resolved when the step starts; empty: the environment's).
    public var database: String? = nil
}

/// `if_needs_skipped: skip` (default): a need skipped by `when:` blocks the step, as a failed one does;
/// `run`: the step runs anyway (it does not depend on what the skipped step produces).
public enum IfNeedsSkipped: String, Sendable, CaseIterable {
    case skip, run
}

/// A runbook run as one step of another.
public final class IncludedRunbook: Sendable {
    public let runbook: Runbook
    public let params: [String: JSONValue]

    init(runbook: Runbook, params: [String: JSONValue]) {
        self.runbook = runbook
        self.params = params
    }
}
