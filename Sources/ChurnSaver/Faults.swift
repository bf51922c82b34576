import Foundation

/// Injected failures for demos and tests: set by `FAULTS` at start or `POST /admin/faults`.
struct Faults: Sendable, Equatable {
    /// Delay added to every non-admin request.
    var slowMs = 0
    /// Share of non-admin requests answered 500 before any work (0...1).
    var errorRate = 0.0
    /// Every webhook is refused as if its signature were wrong.
    var rejectSignatures = false
    /// Every database operation fails as if the server were unreachable.
    var dbDown = false
    /// Webhook events are stored but their processing fails (event keeps `error`, answer 500).
    var processingErrors = false

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    var isEmpty: Bool { self == Faults() }

    var json: [String: Any] {
        ["slow_ms": slowMs, "error_rate": errorRate, "reject_signatures": rejectSignatures,
         "db_down": dbDown, "processing_errors": processingErrors]
    }

    /// Applies a JSON object (`{"slow_ms":200,"db_down":true}`) or `key=value,flag` pairs; unset keys are kept.
    mutating func apply(spec: String) throws {
        let trimmed = spec.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                throw Invalid(description: "not a JSON object")
            }
            try apply(object)
        } else {
            var object: [String: Any] = [:]
            for item in trimmed.split(separator: ",") {
                let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                object[pair[0]] = pair.count == 2 ? pair[1] : "true"
            }
            try apply(object)
        }
    }

    mutating func apply(_ object: [String: Any]) throws {
        for (key, value) in object {
            switch key {
            case "slow_ms":
                guard let n = Self.number(value), n >= 0 else { throw Invalid(description: "slow_ms must be a number >= 0") }
                slowMs = Int(n)
            case "error_rate":
                guard let n = Self.number(value), (0...1).contains(n) else {
                    throw Invalid(description: "error_rate must be between 0 and 1")
                }
                errorRate = n
            case "reject_signatures": rejectSignatures = try Self.flag(key, value)
            case "db_down": dbDown = try Self.flag(key, value)
            case "processing_errors": processingErrors = try Self.flag(key, value)
            default:
                throw Invalid(description: "unknown fault \(key) (known: slow_ms, error_rate, reject_signatures, db_down, processing_errors)")
            }
        }
    }

    private static func number(_ value: Any) -> Double? {
        if let n = value as? NSNumber { return n.doubleValue }
        if let s = value as? String { return Double(s) }
        return nil
    }

    private static func flag(_ key: String, _ value: Any) throws -> Bool {
        if let b = value as? Bool { return b }
        if let s = value as? String, ["true", "1", "yes", "on"].contains(s.lowercased()) { return true }
        if let s = value as? String, ["false", "0", "no", "off"].contains(s.lowercased()) { return false }
        throw Invalid(description: "\(key) must be true or false")
    }
}

/// The faults in force, shared by every request.
final class FaultSwitch: @unchecked Sendable {
    private let lock = NSLock()
    private var faults: Faults

    init(_ initial: Faults) { faults = initial }

    var current: Faults { lock.withLock { faults } }

    func update(_ change: (inout Faults) throws -> Void) rethrows -> Faults {
        try lock.withLock {
            var copy = faults
            try change(&copy)
            faults = copy
            return copy
        }
    }
}
