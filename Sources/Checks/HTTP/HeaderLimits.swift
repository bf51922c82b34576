import Foundation
import HTTP
import Support

/// Limits on numeric response headers (`X-RateLimit-Remaining` running low), with the one threshold
/// rule: `warn`/`crit` fire when the value reaches them from below (bigger is worse), `warn_below`/
/// `crit_below` when it reaches them from above (smaller is worse).
struct HeaderLimits: Sendable {
    var limits: [(header: String, thresholds: Thresholds)]

    init(_ map: [String: JSONValue], stepID: String) throws {
        limits = try map.sorted { $0.key.lowercased() < $1.key.lowercased() }.map { header, spec in
            guard let fields = spec.object else {
                throw StepError("step '\(stepID)': header_limits.\(header) must be a mapping like { warn_below: 100, crit_below: 10 }")
            }
            let known: Set = ["warn", "crit", "warn_below", "crit_below"]
            if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
                throw StepError("step '\(stepID)': header_limits.\(header) has unknown key '\(unknown)' (use warn, crit, warn_below, crit_below)")
            }
            func number(_ key: String) throws -> Double? {
                guard let value = fields[key], !value.isNull else { return nil }
                guard let n = value.double else { throw StepError("step '\(stepID)': header_limits.\(header).\(key) must be a number") }
                return n
            }
            let above = (try number("warn"), try number("crit"))
            let below = (try number("warn_below"), try number("crit_below"))
            let hasAbove = above.0 != nil || above.1 != nil, hasBelow = below.0 != nil || below.1 != nil
            guard hasAbove != hasBelow else {
                throw StepError("step '\(stepID)': header_limits.\(header) needs warn/crit (bigger is worse) or warn_below/crit_below (smaller is worse), not both or neither")
            }
            return (header, hasBelow ? Thresholds(warn: below.0, crit: below.1, direction: .below)
                                     : Thresholds(warn: above.0, crit: above.1, direction: .above))
        }
    }

    var isEmpty: Bool { limits.isEmpty }

    /// A metric name Prometheus and Nagios accept: `X-RateLimit-Remaining` → `header_x_ratelimit_remaining`.
    static func metricName(_ header: String) -> String {
        "header_" + String(header.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// The worst status, one metric per header present, and a phrase per header that is off or missing.
    func evaluate(_ response: HTTPResponse) -> (status: StepStatus, metrics: [Metric], notes: [String]) {
        var worst = StepStatus.ok
        var metrics: [Metric] = []
        var notes: [String] = []
        for (header, thresholds) in limits {
            guard let text = response.header(header)?.trimmingCharacters(in: .whitespaces) else {
                // A rate-limit header that vanished usually means the API changed: worth a look, not an outage.
                notes.append("no \(header) header to check")
                worst = StepStatus.worst([worst, .warn])
                continue
            }
            guard let value = Double(text) else {
                notes.append("\(header) is '\(String(SecretMasker.shared.mask(text).prefix(40)))', not a number")
                worst = StepStatus.worst([worst, .warn])
                continue
            }
            metrics.append(thresholds.metric(Self.metricName(header), value))
            let status = thresholds.status(for: value)
            if status != .ok {
                let limit = (status == .fail ? thresholds.crit : thresholds.warn) ?? value
                let relation = thresholds.direction == .below ? "at or below" : "at or above"
                notes.append("\(header) \(Self.number(value)) is \(relation) \(Self.number(limit))")
                worst = StepStatus.worst([worst, status])
            }
        }
        return (worst, metrics, notes)
    }

    static func number(_ value: Double) -> String { value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value) }
}
