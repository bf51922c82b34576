import Foundation
import Support

/// Resolves a dependency's host name the way the service does (getaddrinfo) and times it.
public struct DNSResolve: StepKind {
    public static let name = "dns.resolve"
    public static let summary = "Resolve a host name with the system resolver; fail when it does not resolve, warn/fail on resolution time or unexpected addresses"
    public static let parameters: [ParameterSpec] = [
        .init("host", .string, required: true, "host name (or a URL: its host is resolved)"),
        .init("family", .string, default: "any", "any, ipv4 or ipv6"),
        .init("expect", .list, "addresses at least one of which must be among the answers (e.g. your load balancer's)"),
        .init("latency_warn", .duration, "resolution time at or above which the step warns"),
        .init("latency_crit", .duration, "resolution time at or above which the step fails"),
        .init("timeout", .duration, default: "5s", "give up (fail) after this long"),
    ]
    public static let mutates = false
    public static let example = """
        - id: api-dns
          kind: dns.resolve
          with: { host: localhost, latency_warn: 200ms, latency_crit: 2s }   # e.g. api.whop.com
        """

    let host: String
    let family: DNSLookup.Family
    let expected: [String]
    let thresholds: Thresholds
    let timeout: Double

    public init(_ p: StepParameters) throws {
        let given = try p.string("host")
        if given.contains("://") {
            guard let host = URLComponents(string: given)?.host, !host.isEmpty else { throw StepError("step '\(p.stepID)': host '\(given)' is a URL without a host") }
            self.host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        } else {
            host = given
        }
        guard let family = DNSLookup.Family(rawValue: try p.string("family", default: "any")) else {
            throw StepError("step '\(p.stepID)': family must be any, ipv4 or ipv6")
        }
        self.family = family
        expected = try p.stringList("expect")
        thresholds = try p.thresholds("latency_", durations: true)
        timeout = try p.duration("timeout", default: 5)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let start = Date()
        let addresses: [DNSLookup.Address]
        do {
            addresses = try DNSLookup.addresses(host: host, family: family, timeout: timeout)
        } catch let failure as TCPConnection.Failure {
            return .init(.fail, failure.description, details: ["host": .string(host)])
        }
        let ms = Date().timeIntervalSince(start) * 1000
        let answers = addresses.map(\.host)
        let details: [String: JSONValue] = ["host": .string(host), "addresses": .array(answers.map(JSONValue.string))]
        let metrics = [thresholds.metric("resolve", ms, unit: "ms", min: 0)]
        if !expected.isEmpty, !expected.contains(where: answers.contains) {
            return .init(.fail, "\(host) resolves to \(answers.joined(separator: ", ")), none of the expected \(expected.joined(separator: ", "))",
                         details: details, metrics: metrics)
        }
        let status = thresholds.status(for: ms)
        let limit = status == .fail ? thresholds.crit : status == .warn ? thresholds.warn : nil
        let suffix = limit.map { " (slower than \(DurationText.format(milliseconds: $0)))" } ?? ""
        return .init(status, "\(host) → \(answers.joined(separator: ", ")) in \(DurationText.format(milliseconds: ms))\(suffix)",
                     details: details, metrics: metrics)
    }
}
