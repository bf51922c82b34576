import Foundation
import Support

/// Redis answers PING (after AUTH with a password from a secret), speaking RESP over TCP.
public struct RedisPing: StepKind {
    public static let name = "redis.ping"
    public static let summary = "Connect to Redis, AUTH with a password from a secret env var, PING; warn/fail on round-trip time"
    public static let parameters: [ParameterSpec] = [
        .init("address", .string, "host:port or redis://host:port (default: the URL in url_env, else 127.0.0.1:6379)"),
        .init("url_env", .string, "env var holding a redis://[user:password@]host:port URL (REDIS_URL); its password is masked"),
        .init("password_env", .string, "env var holding the AUTH password (masked everywhere)"),
        .init("username", .string, "ACL user for AUTH (Redis 6+; default: the password alone)"),
        .init("latency_warn", .duration, "PING round trip at or above which the step warns"),
        .init("latency_crit", .duration, "PING round trip at or above which the step fails"),
        .init("timeout", .duration, default: "5s", "give up (fail) after this long"),
    ]
    public static let mutates = false
    public static let example = """
        - id: redis
          kind: redis.ping
          with: { address: "${env.REDIS_ADDRESS:-127.0.0.1:6379}", latency_warn: 50ms, latency_crit: 500ms }
        """

    let address: String?
    let urlVariable: String?
    let passwordVariable: String?
    let username: String?
    let thresholds: Thresholds
    let timeout: Double

    public init(_ p: StepParameters) throws {
        address = try p.optionalString("address")
        urlVariable = try p.optionalString("url_env")
        passwordVariable = try p.optionalString("password_env")
        username = try p.optionalString("username")
        thresholds = try p.thresholds("latency_", durations: true)
        timeout = try p.duration("timeout", default: 5)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        var target = address ?? "127.0.0.1:6379"
        var user = username
        var password: String?
        if let urlVariable {
            guard let url = context.environment[urlVariable], !url.isEmpty else { throw StepError("\(urlVariable) is not set (it should hold redis://[user:password@]host:port)") }
            SecretMasker.shared.registerPassword(inDSN: url)
            let parts = URLComponents(string: url)
            if address == nil { target = url }
            if user == nil, let name = parts?.user, !name.isEmpty, name != "default" { user = name }
            password = parts?.password  // URLComponents decodes it once; decoding again would corrupt a literal %
        }
        if let passwordVariable {
            guard let value = context.environment[passwordVariable], !value.isEmpty else { throw StepError("\(passwordVariable) is not set (it should hold the Redis password)") }
            SecretMasker.shared.register(value)
            password = value
        }
        if target.lowercased().hasPrefix("rediss://") {
            throw StepError("TLS Redis (rediss://) is not supported by redis.ping; check the port with tcp.connect")
        }
        // Only host and port are shown: a URL from url_env may carry the password.
        guard let (host, port) = Endpoint.parse(target, defaultPort: 6379) else {
            throw StepError("address '\(SecretMasker.shared.mask(target))' is not host:port or redis://host:port")
        }
        let deadline = Date().addingTimeInterval(timeout)
        var details: [String: JSONValue] = ["host": .string(host), "port": .int(port), "auth": .bool(password != nil)]
        do {
            let connection = try TCPConnection(host: host, port: port, timeout: timeout, cancellation: context.cancellation)
            details["peer"] = .string(connection.peer)
            if let password {
                let reply = try Self.command(user.map { ["AUTH", $0, password] } ?? ["AUTH", password], on: connection, deadline: deadline)
                guard reply == "+OK" else {
                    return .init(.fail, "\(host):\(port): AUTH refused: \(Self.errorText(reply))", details: details)
                }
            }
            let start = Date()
            let reply = try Self.command(["PING"], on: connection, deadline: deadline)
            let ms = Date().timeIntervalSince(start) * 1000
            let metrics = [thresholds.metric("round_trip", ms, unit: "ms", min: 0),
                           Metric(name: "connect", value: connection.connectMs, unit: "ms", min: 0)]
            guard reply == "+PONG" else {
                let hint = reply.hasPrefix("-NOAUTH") ? " (set password_env)" : ""
                return .init(.fail, "\(host):\(port): PING answered \(Self.errorText(reply))\(hint)", details: details, metrics: metrics)
            }
            let status = thresholds.status(for: ms)
            let limit = status == .fail ? thresholds.crit : status == .warn ? thresholds.warn : nil
            let suffix = limit.map { " (slower than \(DurationText.format(milliseconds: $0)))" } ?? ""
            return .init(status, "Redis at \(host):\(port) answered PONG in \(DurationText.format(milliseconds: ms))\(suffix)",
                         details: details, metrics: metrics)
        } catch let failure as TCPConnection.Failure {
            return .init(.fail, "Redis at \(host):\(port) is unreachable: \(failure.description)", details: details)
        }
    }

    /// Sends one command as a RESP array of bulk strings (binary-safe: a password may hold anything)
    /// and returns the first reply line.
    static func command(_ words: [String], on connection: TCPConnection, deadline: Date) throws -> String {
        var bytes = Array("*\(words.count)\r\n".utf8)
        for word in words {
            let data = Array(word.utf8)
            bytes += Array("$\(data.count)\r\n".utf8) + data + Array("\r\n".utf8)
        }
        try connection.write(bytes, deadline: deadline)
        return try connection.readLine(deadline: deadline)
    }

    /// `-WRONGPASS invalid username-password pair…` → `WRONGPASS invalid username-password pair…`.
    static func errorText(_ reply: String) -> String {
        let text = reply.hasPrefix("-") || reply.hasPrefix("+") ? String(reply.dropFirst()) : reply
        return String(SecretMasker.shared.mask(text).prefix(200))
    }
}
