import Foundation
import HTTP

/// A provider's Atlassian Statuspage (`/api/v2/status.json`): its overall indicator as a status.
public struct Statuspage: StepKind {
    public static let name = "statuspage"
    public static let summary = "Read a provider's Atlassian Statuspage indicator: none → ok, minor → warn, major/critical → fail"
    public static let parameters: [ParameterSpec] = [
        .init("url", .string, required: true, "the status page (https://status.whop.com) or its /api/v2/status.json"),
        .init("timeout", .duration, default: "10s", "whole-request timeout"),
    ]
    public static let mutates = false
    public static let example = """
        - id: provider-status
          kind: statuspage
          with: { url: "${env.STATUSPAGE_URL:-/}" }   # e.g. https://status.whop.com
        """

    let url: String
    let timeout: Double

    public init(_ p: StepParameters) throws {
        url = try p.string("url")
        timeout = try p.duration("timeout", default: 10)
    }

    /// The indicator values Statuspage documents, and what each means for the run.
    static let statuses: [String: StepStatus] = ["none": .ok, "minor": .warn, "major": .fail, "critical": .fail]

    public func run(_ context: StepContext) throws -> StepOutcome {
        var target = try context.resolve(url: url)
        if !target.hasSuffix(".json") {
            target = target.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/api/v2/status.json"
        }
        let request = HTTPRequest(method: "GET", url: target, timeout: timeout, followRedirects: true)
        let response = try context.send(request)
        let page = request.hostForMessages
        guard response.status == 200 else {
            throw StepError("\(page): status page answered \(response.status) at \(URLComponents(string: target)?.path ?? target)")
        }
        guard let json = JSONValue.parse(Data(response.body)), let indicator = json.at(path: "status.indicator")?.string else {
            throw StepError("\(page): not a Statuspage status.json (no status.indicator)")
        }
        let description = json.at(path: "status.description")?.string ?? indicator
        var details: [String: JSONValue] = ["url": .string(target), "indicator": .string(indicator), "description": .string(description)]
        if let name = json.at(path: "page.name")?.string { details["page"] = .string(name) }
        if let updated = json.at(path: "page.updated_at")?.string { details["updated_at"] = .string(updated) }
        guard let status = Self.statuses[indicator] else {
            throw StepError("\(page): unknown Statuspage indicator '\(indicator)' (expected none, minor, major or critical)")
        }
        let who = details["page"]?.string ?? page
        return .init(status, "\(who): \(description) (indicator \(indicator))", details: details)
    }
}
