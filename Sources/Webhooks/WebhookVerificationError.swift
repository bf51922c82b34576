/// Why a delivery was refused. Descriptions never contain the secret or a signature value.
public enum WebhookVerificationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A header the scheme requires is absent or empty.
    case missingHeader(String)
    /// A header is present but cannot be parsed.
    case malformedHeader(String, reason: String)
    /// No signature in the headers matches the body and secret.
    case badSignature
    /// The delivery's timestamp is further than `tolerance` seconds from the receiver's clock.
    case staleTimestamp(timestamp: Int, now: Int, tolerance: Int)

    public var description: String {
        switch self {
        case let .missingHeader(name): return "missing header \(name)"
        case let .malformedHeader(name, reason): return "malformed header \(name): \(reason)"
        case .badSignature: return "signature does not match the body and secret"
        case let .staleTimestamp(timestamp, now, tolerance):
            return "timestamp \(timestamp) is \(abs(now - timestamp)) s from now (tolerance \(tolerance) s)"
        }
    }

    /// A short machine-readable reason: `missing_header`, `malformed_header`, `bad_signature`, `stale_timestamp`.
    public var code: String {
        switch self {
        case .missingHeader: return "missing_header"
        case .malformedHeader: return "malformed_header"
        case .badSignature: return "bad_signature"
        case .staleTimestamp: return "stale_timestamp"
        }
    }
}
