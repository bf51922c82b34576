import Foundation
import Support

/// Whether a dependency's port accepts connections, and how long the TCP handshake takes.
public struct TCPConnect: StepKind {
    public static let name = "tcp.connect"
    public static let summary = "Open a TCP connection to a dependency (host:port or URL); fail when refused or timed out, warn/fail on connect time"
    public static let parameters: [ParameterSpec] = [
        .init("address", .string, required: true, "host:port, [v6]:port, or a URL (redis://cache:6379, https://api.whop.com, or a path relative to base_url)"),
        .init("connect_warn", .duration, "connect time at or above which the step warns"),
        .init("connect_crit", .duration, "connect time at or above which the step fails"),
        .init("timeout", .duration, default: "5s", "give up (fail) after this long, name resolution included"),
    ]
    public static let mutates = false
    public static let example = """
        - id: service-port
          kind: tcp.connect
          with: { address: /, connect_warn: 200ms, connect_crit: 1s }   # or redis.internal:6379
        """

    let address: String
    let thresholds: Thresholds
    let timeout: Double

    public init(_ p: StepParameters) throws {
        address = try p.string("address")
        thresholds = try p.thresholds("connect_", durations: true)
        timeout = try p.duration("timeout", default: 5)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let target = address.hasPrefix("/") ? try context.resolve(url: address) : address
        guard let (host, port) = Endpoint.parse(target, defaultPort: nil) else {
            throw StepError("address '\(address)' is not host:port or a URL with a host")
        }
        let connection: TCPConnection
        do {
            connection = try TCPConnection(host: host, port: port, timeout: timeout, cancellation: context.cancellation)
        } catch let failure as TCPConnection.Failure {
            // Refused or unreachable is the answer this check exists to give, not a failure to evaluate it.
            return .init(.fail, "\(host):\(port) does not accept connections: \(failure.description)",
                         details: ["host": .string(host), "port": .int(port)])
        }
        let status = thresholds.status(for: connection.connectMs)
        let limit = status == .fail ? thresholds.crit : status == .warn ? thresholds.warn : nil
        let suffix = limit.map { " (slower than \(DurationText.format(milliseconds: $0)))" } ?? ""
        return .init(status, "\(host):\(port) accepts connections (\(connection.peer)) in \(DurationText.format(milliseconds: connection.connectMs))\(suffix)",
                     details: ["host": .string(host), "port": .int(port), "peer": .string(connection.peer),
                               "resolve_ms": .double(connection.resolveMs)],
                     metrics: [thresholds.metric("connect", connection.connectMs, unit: "ms", min: 0),
                               Metric(name: "resolve", value: connection.resolveMs, unit: "ms", min: 0)])
    }
}
