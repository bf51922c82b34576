import Foundation
import HTTP

/// Days until the service's TLS certificate expires.
public struct TLSCertificate: StepKind {
    public static let name = "tls.certificate"
    public static let summary = "Days left on the TLS certificate of an https URL (warn at 30 or fewer, fail at 7 or fewer)"
    public static let parameters: [ParameterSpec] = [
        .init("url", .string, required: true, "https URL (or a path relative to base_url)"),
        .init("warn_days", .number, default: 30, "days left at or below which the step warns"),
        .init("crit_days", .number, default: 7, "days left at or below which the step fails"),
        .init("timeout", .duration, default: "10s", "connection timeout"),
    ]
    public static let mutates = false
    public static let example = """
        - id: certificate
          kind: tls.certificate
          with: { url: /, warn_days: 30, crit_days: 7 }
        """

    let url: String
    let thresholds: Thresholds
    let timeout: Double

    public init(_ p: StepParameters) throws {
        url = try p.string("url")
        thresholds = Thresholds(warn: try p.double("warn_days", default: 30), crit: try p.double("crit_days", default: 7), direction: .below)
        timeout = try p.duration("timeout", default: 10)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let target = try context.resolve(url: url)
        guard target.lowercased().hasPrefix("https://") else {
            return .init(.skipped, "\(target) is not https: no certificate to check")
        }
        var request = HTTPRequest(method: "HEAD", url: target, timeout: timeout, captureCertificate: true)
        request.insecure = false
        let response: HTTPResponse
        do {
            response = try context.send(request)
        } catch let error as StepError where error.message.contains("certificate") {
            return .init(.fail, error.message, details: error.details)
        }
        guard let certificate = response.certificate, let days = certificate.daysLeft() else {
            throw StepError("\(request.hostForMessages): the TLS library did not report the peer certificate")
        }
        let status = thresholds.status(for: days)
        let expiry = certificate.notAfter.map { ISO8601DateFormatter().string(from: $0) } ?? "?"
        return .init(status, "\(request.hostForMessages): certificate expires in \(Int(days.rounded(.down))) days (\(expiry))",
                     details: ["subject": .string(certificate.subject), "issuer": .string(certificate.issuer), "not_after": .string(expiry)],
                     metrics: [thresholds.metric("days_left", days, unit: "days")])
    }
}
