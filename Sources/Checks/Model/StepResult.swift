import Foundation

/// The one status vocabulary of every step, runbook and output format.
public enum StepStatus: String, Codable, Sendable, CaseIterable {
    case ok, warn, fail, error, skipped

    /// Severity order used to combine results: skipped < ok < warn < fail < error.
    public var severity: Int {
        switch self {
        case .skipped: return 0
        case .ok: return 1
        case .warn: return 2
        case .fail: return 3
        case .error: return 4
        }
    }

    public var isFailure: Bool { self == .fail || self == .error }

    public static func worst(_ statuses: [StepStatus]) -> StepStatus {
        statuses.max { $0.severity < $1.severity } ?? .ok
    }
}

/// A measured value with its thresholds: becomes perfdata, a Prometheus gauge, a JSON metric.
public struct Metric: Codable, Sendable, Equatable {
    public var name: String
    public var value: Double
    /// UCUM-ish unit: `ms`, `s`, `%`, `B`, `count`, `days`.
    public var unit: String?
    public var warn: Double?
    public var crit: Double?
    public var min: Double?
    public var max: Double?

    public init(name: String, value: Double, unit: String? = nil, warn: Double? = nil, crit: Double? = nil,
                min: Double? = nil, max: Double? = nil) {
        self.name = name
        self.value = value
        self.unit = unit
        self.warn = warn
        self.crit = crit
        self.min = min
        self.max = max
    }
}

/// What one step produced. Every reporter renders only this (and `RunReport`).
public struct StepResult: Codable, Sendable, Equatable {
    public var id: String
    public var title: String
    public var kind: String
    public var status: StepStatus
    /// One line a human reads.
    public var message: String
    public var details: [String: JSONValue]
    public var metrics: [Metric]
    public var startedAt: Date
    public var durationMs: Double
    public var attempts: Int
    /// What the on-call engineer does next when this step does not pass.
    public var remediation: String?
    /// Steps whose failure blocked this one (status skipped).
    public var blockedBy: [String]?
    public var mutates: Bool

    public init(id: String, title: String, kind: String, status: StepStatus, message: String,
                details: [String: JSONValue] = [:], metrics: [Metric] = [], startedAt: Date = Date(),
                durationMs: Double = 0, attempts: Int = 1, remediation: String? = nil,
                blockedBy: [String]? = nil, mutates: Bool = false) {
        self.id = id
        self.title = title
        self.kind = kind
        self.status = status
        self.message = message
        self.details = details
        self.metrics = metrics
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.attempts = attempts
        self.remediation = remediation
        self.blockedBy = blockedBy
        self.mutates = mutates
    }

    enum CodingKeys: String, CodingKey {
        case id, title, kind, status, message, details, metrics, attempts, remediation, mutates
        case startedAt = "started_at", durationMs = "duration_ms", blockedBy = "blocked_by"
    }
}

/// A whole run: the report every output format is generated from.
public struct RunReport: Codable, Sendable, Equatable {
    public var runID: String
    public var runbook: String
    public var environment: String?
    public var startedAt: Date
    public var durationMs: Double
    public var results: [StepResult]
    /// Why the run stopped early (interrupt, deadline, confirmation refused, lock held), if it did.
    public var aborted: String?
    public var dryRun: Bool

    public init(runID: String, runbook: String, environment: String? = nil, startedAt: Date = Date(),
                durationMs: Double = 0, results: [StepResult] = [], aborted: String? = nil, dryRun: Bool = false) {
        self.runID = runID
        self.runbook = runbook
        self.environment = environment
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.results = results
        self.aborted = aborted
        self.dryRun = dryRun
    }

    /// Overall status: the worst step status (an aborted run is at least `error`).
    public var status: StepStatus {
        let worst = StepStatus.worst(results.map(\.status))
        if aborted != nil, worst.severity < StepStatus.error.severity { return .error }
        return results.isEmpty && aborted == nil ? .ok : worst
    }

    public func count(_ status: StepStatus) -> Int { results.filter { $0.status == status }.count }

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", runbook, environment, startedAt = "started_at", durationMs = "duration_ms"
        case results, aborted, dryRun = "dry_run", status
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(runID, forKey: .runID)
        try c.encode(runbook, forKey: .runbook)
        try c.encodeIfPresent(environment, forKey: .environment)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(durationMs, forKey: .durationMs)
        try c.encode(status, forKey: .status)
        try c.encode(results, forKey: .results)
        try c.encodeIfPresent(aborted, forKey: .aborted)
        try c.encode(dryRun, forKey: .dryRun)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        runID = try c.decode(String.self, forKey: .runID)
        runbook = try c.decode(String.self, forKey: .runbook)
        environment = try c.decodeIfPresent(String.self, forKey: .environment)
        startedAt = try c.decode(Date.self, forKey: .startedAt)
        durationMs = try c.decode(Double.self, forKey: .durationMs)
        results = try c.decode([StepResult].self, forKey: .results)
        aborted = try c.decodeIfPresent(String.self, forKey: .aborted)
        dryRun = try c.decodeIfPresent(Bool.self, forKey: .dryRun) ?? false
    }
}
