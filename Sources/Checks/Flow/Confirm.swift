import Foundation

/// An explicit gate: the operator types a word to go on.
public struct Confirm: StepKind {
    public static let name = "confirm"
    public static let summary = "Stop until the operator types the expected word (or --confirm was given)"
    public static let parameters: [ParameterSpec] = [
        .init("message", .string, default: "Continue?", "what the operator is agreeing to"),
        .init("expect", .string, default: "yes", "the word to type"),
    ]
    /// A gate mutates nothing itself, but is only meaningful before mutating steps.
    public static let mutates = false
    public static let example = """
        - id: go-ahead
          kind: confirm
          with: { message: "Roll back production to version 8?", expect: "yes" }
        """

    let message: String
    let expect: String

    public init(_ p: StepParameters) throws {
        message = try p.string("message", default: "Continue?")
        expect = try p.string("expect", default: "yes")
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        if context.confirmation == expect { return .ok("confirmed with --confirm") }
        guard let prompt = context.prompt else {
            return .init(.fail, "\(message) — needs a typed '\(expect)' but there is no terminal: pass --confirm \(expect)")
        }
        let answer = prompt("\(message) Type '\(expect)' to continue: ")?.trimmingCharacters(in: .whitespacesAndNewlines)
        return answer == expect ? .ok("confirmed by operator") : .init(.fail, "not confirmed (typed '\(answer ?? "")')")
    }
}
