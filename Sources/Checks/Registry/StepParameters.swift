import Foundation
import Support

/// A step's `with:` block after interpolation, with typed accessors that name the parameter on error.
public struct StepParameters: Sendable {
    public var values: [String: JSONValue]
    /// Step id, for messages.
    public var stepID: String

    public init(_ values: [String: JSONValue], stepID: String = "") {
        self.values = values
        self.stepID = stepID
    }

    public subscript(_ name: String) -> JSONValue? {
        guard let v = values[name], !v.isNull else { return nil }
        return v
    }

    func missing(_ name: String) -> StepError {
        StepError("step '\(stepID)': parameter '\(name)' is required")
    }

    func wrong(_ name: String, _ expected: String) -> StepError {
        StepError("step '\(stepID)': parameter '\(name)' must be \(expected), got \(values[name]?.jsonText ?? "nothing")")
    }

    public func string(_ name: String) throws -> String {
        guard let v = self[name] else { throw missing(name) }
        guard let s = v.string else { throw wrong(name, "a string") }
        return s
    }

    public func string(_ name: String, default d: String) throws -> String { self[name] == nil ? d : try string(name) }
    public func optionalString(_ name: String) throws -> String? { self[name] == nil ? nil : try string(name) }
    /// A string parameter where empty means unset: a verb's flag passed through as `${params.x}` with an
    /// empty default arrives as "".
    public func nonEmptyString(_ name: String) throws -> String? { try optionalString(name).flatMap { $0.isEmpty ? nil : $0 } }

    public func int(_ name: String, default d: Int) throws -> Int {
        guard let v = self[name] else { return d }
        guard let i = v.int else { throw wrong(name, "an integer") }
        return i
    }

    public func double(_ name: String) throws -> Double? {
        guard let v = self[name] else { return nil }
        guard let d = v.double else { throw wrong(name, "a number") }
        return d
    }

    public func double(_ name: String, default d: Double) throws -> Double { try double(name) ?? d }

    public func bool(_ name: String, default d: Bool) throws -> Bool {
        guard let v = self[name] else { return d }
        guard let b = v.bool else { throw wrong(name, "true or false") }
        return b
    }

    /// Seconds from `5s`, `500ms`, `2m` or a bare number of seconds.
    public func duration(_ name: String) throws -> Double? {
        guard let v = self[name] else { return nil }
        // Bounded (0 to DurationText.maximumSeconds): a negative or absurd value must not wait forever or overflow.
        if case .string = v {} else if let d = v.double {
            guard d >= 0, d <= DurationText.maximumSeconds else { throw wrong(name, DurationText.expected) }
            return d
        }
        // Text goes through DurationText alone (it reads bare seconds too), so both agree on every input.
        guard let s = v.string else { throw wrong(name, DurationText.expected) }
        if let problem = DurationText.problem(s) { throw StepError("step '\(stepID)': parameter '\(name)': \(problem)") }
        return DurationText.seconds(s) ?? 0
    }

    public func duration(_ name: String, default d: Double) throws -> Double { try duration(name) ?? d }

    public func stringList(_ name: String) throws -> [String] {
        guard let v = self[name] else { return [] }
        if let s = v.string { return [s] }
        guard let a = v.array else { throw wrong(name, "a list") }
        return try a.map { guard let s = $0.string else { throw wrong(name, "a list of strings") }; return s }
    }

    public func map(_ name: String) throws -> [String: JSONValue] {
        guard let v = self[name] else { return [:] }
        guard let o = v.object else { throw wrong(name, "a mapping") }
        return o
    }

    /// Thresholds from `<prefix>warn` / `<prefix>crit` (e.g. `latency_warn: 500ms`).
    public func thresholds(_ prefix: String, direction: Thresholds.Direction = .above, durations: Bool = false,
                           warn: Double? = nil, crit: Double? = nil) throws -> Thresholds {
        func read(_ key: String) throws -> Double? {
            durations ? try duration(key).map { $0 * 1000 } : try double(key)
        }
        return Thresholds(warn: try read(prefix + "warn") ?? warn, crit: try read(prefix + "crit") ?? crit, direction: direction)
    }
}
