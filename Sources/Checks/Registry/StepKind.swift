import Foundation

/// The type of a step parameter, checked when a runbook is loaded.
public enum ParameterType: String, Sendable {
    case string, int, number, bool, duration, list, map, any
}

/// A parameter whose text is code: `${...}` references in it are bound, never pasted in as text.
public enum EmbeddedCode: Sendable, Equatable {
    /// SQL: each reference becomes the next `$n`; its value is appended to the list parameter `boundBy`.
    case sql(boundBy: String)
    /// A `/bin/sh -c` command line: each reference becomes a quoted variable set in the map parameter `environment`.
    case shell(environment: String)
}

/// One documented parameter of a step kind.
public struct ParameterSpec: Sendable {
    public var name: String
    public var type: ParameterType
    public var required: Bool
    public var defaultValue: JSONValue?
    public var doc: String
    /// Set when the parameter is code (SQL, a command line).
    public var code: EmbeddedCode?

    public init(_ name: String, _ type: ParameterType, required: Bool = false, default defaultValue: JSONValue? = nil, _ doc: String) {
        self.name = name
        self.type = type
        self.required = required
        self.defaultValue = defaultValue
        self.doc = doc
    }

    /// The same parameter, declared as code of that language.
    public func code(_ language: EmbeddedCode) -> ParameterSpec {
        var spec = self
        spec.code = language
        return spec
    }
}

/// A kind of step: its documentation (which is also its test, via `example`) and how it runs.
///
/// Steps run on their own thread and may block (libpq, libcurl, child processes); the
/// executor enforces timeouts through `StepContext.cancellation`.
public protocol StepKind: Sendable {
    /// Registry name used in runbooks (`kind: postgres.connections`).
    static var name: String { get }
    /// One line for `opsctl kinds`.
    static var summary: String { get }
    static var parameters: [ParameterSpec] { get }
    /// Whether running it changes something (needs confirmation on protected environments, skipped in dry-run).
    static var mutates: Bool { get }
    /// A runnable YAML step; `opsctl kinds NAME` prints it and the test suite runs it.
    static var example: String { get }

    init(_ parameters: StepParameters) throws

    func run(_ context: StepContext) throws -> StepOutcome

    /// What the step would do, for `--dry-run` (mutating kinds), found by checking everything that can be
    /// verified without changing anything (the database is reachable, the secret is set, the statement
    /// parses, its objects exist, it can run where it would run). Throws `StepError` with the reason the
    /// real run would fail: the dry-run then reports `error`. One pass: the checks are the plan's own work.
    func plan(_ context: StepContext) throws -> String

    /// Whether this configured step mutates (a `shell` step declared `readonly: true` does not).
    var isMutating: Bool { get }
}

extension StepKind {
    public func plan(_ context: StepContext) throws -> String { "would run \(Self.name)" }
    public var isMutating: Bool { Self.mutates }
}

/// What a step hands back; the executor adds id, timings and attempts to make a `StepResult`.
public struct StepOutcome: Sendable {
    public var status: StepStatus
    public var message: String
    public var details: [String: JSONValue]
    public var metrics: [Metric]

    public init(_ status: StepStatus, _ message: String, details: [String: JSONValue] = [:], metrics: [Metric] = []) {
        self.status = status
        self.message = message
        self.details = details
        self.metrics = metrics
    }

    public static func ok(_ message: String, details: [String: JSONValue] = [:], metrics: [Metric] = []) -> StepOutcome {
        .init(.ok, message, details: details, metrics: metrics)
    }

    /// Combines a measured metric's threshold status with the message.
    public static func measured(_ status: StepStatus, _ message: String, details: [String: JSONValue] = [:], metrics: [Metric]) -> StepOutcome {
        .init(status, message, details: details, metrics: metrics)
    }
}

/// A step could not be evaluated (unreachable, bad config): status `error`.
public struct StepError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var details: [String: JSONValue]

    public init(_ message: String, details: [String: JSONValue] = [:]) {
        self.message = message
        self.details = details
    }

    public var description: String { message }
}
