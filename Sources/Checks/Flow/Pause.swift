import Foundation

/// Waits a fixed time: lets a deploy settle, spaces out retries by hand, paces a runbook.
public struct Pause: StepKind {
    public static let name = "pause"
    public static let summary = "Wait a fixed time (e.g. let a deploy settle before verifying)"
    public static let parameters: [ParameterSpec] = [
        .init("duration", .duration, default: "0s", "how long to wait"),
        .init("reason", .string, "why, shown in the report"),
    ]
    public static let mutates = false
    public static let example = """
        - id: settle
          kind: pause
          with: { duration: 100ms, reason: let the new version warm up }
        """

    let duration: Double
    let reason: String?

    public init(_ p: StepParameters) throws {
        duration = try p.duration("duration", default: 0)
        reason = try p.optionalString("reason")
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let end = Date().addingTimeInterval(duration)
        while Date() < end {
            if context.cancellation.isCancelled { return .init(.error, "pause interrupted: \(context.cancellation.reason ?? "cancelled")") }
            Thread.sleep(forTimeInterval: min(0.05, max(0, end.timeIntervalSinceNow)))
        }
        let text = "waited \(DurationFormat.short(duration))"
        return .ok(reason.map { "\(text): \($0)" } ?? text)
    }
}
