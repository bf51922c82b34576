import Foundation

/// Polls another kind until it passes (e.g. wait for the health endpoint after a deploy).
public struct WaitFor: StepKind {
    public static let name = "wait_for"
    public static let summary = "Poll another step kind until it is ok (or warn), or give up after a timeout"
    public static let parameters: [ParameterSpec] = [
        .init("kind", .string, required: true, "the kind to poll"),
        .init("with", .map, "its parameters"),
        .init("interval", .duration, default: "2s", "pause between polls"),
        .init("timeout", .duration, default: "60s", "give up after this long"),
        .init("accept_warn", .bool, default: true, "treat warn as done"),
    ]
    public static let mutates = false
    public static let example = """
        - id: wait-for-database
          kind: wait_for
          with:
            kind: postgres.connect
            interval: 1s
            timeout: 30s
        """

    let inner: any StepKind
    let innerName: String
    let interval: Double, timeout: Double
    let acceptWarn: Bool

    public init(_ p: StepParameters) throws {
        innerName = try p.string("kind")
        guard let kind = StepRegistry.kind(named: innerName) else {
            throw StepError("step '\(p.stepID)': wait_for.kind '\(innerName)' is not a known kind\(StepRegistry.suggestion(for: innerName))")
        }
        guard !kind.mutates else { throw StepError("step '\(p.stepID)': wait_for cannot poll the mutating kind '\(innerName)'") }
        inner = try kind.init(StepParameters(try p.map("with"), stepID: p.stepID))
        interval = try p.duration("interval", default: 2)
        timeout = try p.duration("timeout", default: 60)
        acceptWarn = try p.bool("accept_warn", default: true)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let start = Date()
        var polls = 0
        var last: StepOutcome = .init(.error, "never polled")
        while true {
            polls += 1
            do { last = try inner.run(context) } catch { last = .init(.error, "\(error)") }
            if last.status == .ok || (acceptWarn && last.status == .warn) {
                var done = last
                done.message = "\(last.message) (after \(polls) poll(s), \(String(format: "%.1f", Date().timeIntervalSince(start))) s)"
                done.details["polls"] = .int(polls)
                return done
            }
            if context.cancellation.isCancelled { break }
            if Date().timeIntervalSince(start) + interval > timeout { break }
            context.progress?("waiting for \(innerName): \(last.message)")
            Thread.sleep(forTimeInterval: interval)
        }
        return .init(last.status == .ok ? .fail : last.status == .warn ? .fail : last.status,
                     "gave up after \(polls) poll(s) in \(Int(timeout)) s: \(last.message)",
                     details: last.details.merging(["polls": .int(polls)]) { $1 }, metrics: last.metrics)
    }
}
