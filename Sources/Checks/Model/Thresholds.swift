/// Turns a measured value into a status given warn/crit thresholds.
///
/// The one rule for every kind: a limit fires when the value reaches it — `value >= limit` for
/// `.above`, `value <= limit` for `.below`. Operators read `crit: 1` as "critical at 1".
public struct Thresholds: Sendable, Equatable {
    public enum Direction: Sendable { case above, below }

    public var warn: Double?
    public var crit: Double?
    /// `.above`: bigger is worse (latency). `.below`: smaller is worse (days left, success rate).
    public var direction: Direction

    public init(warn: Double? = nil, crit: Double? = nil, direction: Direction = .above) {
        self.warn = warn
        self.crit = crit
        self.direction = direction
    }

    public func status(for value: Double) -> StepStatus {
        func breached(_ limit: Double?) -> Bool {
            guard let limit else { return false }
            return direction == .above ? value >= limit : value <= limit
        }
        if breached(crit) { return .fail }
        if breached(warn) { return .warn }
        return .ok
    }

    public func metric(_ name: String, _ value: Double, unit: String? = nil, min: Double? = nil, max: Double? = nil) -> Metric {
        Metric(name: name, value: value, unit: unit, warn: warn, crit: crit, min: min, max: max)
    }
}
