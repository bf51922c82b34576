import Checks
import Foundation
import HTTP
import Support
import Webhooks

/// Sends a run's transitions to the channels of `notify:`. A delivery that fails is reported, never
/// raised: the run's result and exit code are the checks', not the chat tool's.
public struct Notifier {
    public let config: NotifyConfig
    public var environment: [String: String]
    /// Where the rate limiter remembers when each step last messaged each channel.
    public var statePath: String
    public var host = ProcessInfo.processInfo.hostName
    public var now: () -> Date = Date.init

    public init(config: NotifyConfig, environment: [String: String], statePath: String) {
        self.config = config
        self.environment = environment
        self.statePath = statePath
    }

    /// The default state file, beside the file journal.
    public static func defaultStatePath(environment: [String: String]) -> String {
        let state = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((environment["HOME"] ?? NSTemporaryDirectory()) + "/.local/state")
        return state + "/opsctl/notify-state.json"
    }

    /// Whether this run's transitions are sent at all.
    public func applies(to report: RunReport) -> Bool {
        !config.isEmpty && !report.dryRun && report.aborted == nil && (config.runbooks.isEmpty || config.runbooks.contains(report.runbook))
    }

    /// Sends what changed and returns one line per channel that had something to say (for stderr).
    public func notify(_ report: RunReport, before: [String: StepStatus]) -> [String] {
        guard applies(to: report) else { return [] }
        let transitions = Transition.between(before: before, current: report)
        guard !transitions.isEmpty else { return [] }
        let context = NotifyPayloads.Context(report: report, host: host,
                                             runURL: config.runURL.map { $0.replacingOccurrences(of: "{run_id}", with: report.runID) })
        var lines: [String] = []
        var state = loadState()
        // PagerDuty is never rate-limited: its incidents must open and close exactly once each.
        if let pd = config.pagerduty {
            lines.append(deliver("pagerduty") {
                let key = try secret(pd.routingKeyEnv)
                for t in transitions {
                    try post(pd.url, NotifyPayloads.pagerduty(t, routingKey: key, severity: pd.severity, context), expect: 200...299)
                }
                return "\(Self.count(transitions, .trigger)) trigger(s), \(Self.count(transitions, .resolve)) resolve(s)"
            })
        }
        for channel in ["slack", "webhook"] where channel == "slack" ? config.slack != nil : config.webhook != nil {
            let due = transitions.filter { t in
                let key = Transition.key(runbook: report.runbook, environment: report.environment, step: t.step.id) + "#" + channel
                return state[key].map { now().timeIntervalSince1970 - $0 >= config.minInterval } ?? true
            }
            let held = transitions.count - due.count
            guard !due.isEmpty else {
                lines.append("\(channel): \(held) transition(s) held back by notify.min_interval")
                continue
            }
            var line = deliver(channel) {
                if channel == "slack", let slack = config.slack {
                    try post(try secret(slack.webhookURLEnv), NotifyPayloads.slack(due, context), expect: 200...299)
                } else if let hook = config.webhook {
                    let url = try hook.url ?? secret(hook.urlEnv!)
                    try post(url, NotifyPayloads.webhook(due, context), expect: 200...299, signingSecret: try hook.secretEnv.map(secret))
                }
                return "\(Self.count(due, .trigger)) failing, \(Self.count(due, .resolve)) recovered"
            }
            if held > 0 { line += " (\(held) held back by notify.min_interval)" }
            if !line.contains("FAILED") {
                for t in due { state[Transition.key(runbook: report.runbook, environment: report.environment, step: t.step.id) + "#" + channel] = now().timeIntervalSince1970 }
            }
            lines.append(line)
        }
        saveState(state)
        return lines
    }

    static func count(_ transitions: [Transition], _ direction: Transition.Direction) -> Int {
        transitions.filter { $0.direction == direction }.count
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    private func deliver(_ channel: String, _ body: () throws -> String) -> String {
        do {
            return "notified \(channel): " + (try body())
        } catch {
            return SecretMasker.shared.mask("notification to \(channel) FAILED (the run's result is unchanged): \(error)")
        }
    }

    private func secret(_ variable: String) throws -> String {
        guard let value = environment[variable], !value.isEmpty else { throw Failure(description: "\(variable) is not set") }
        SecretMasker.shared.register(value)
        return value
    }

    private func post(_ url: String, _ payload: JSONValue, expect: ClosedRange<Int>, signingSecret: String? = nil) throws {
        let body = Array(payload.jsonText.utf8)
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if let signingSecret {
            headers += WebhookScheme.standard.sign(body: body, secret: signingSecret, timestamp: now()).map { ($0.0, $0.1) }
        }
        let request = HTTPRequest(method: "POST", url: url, headers: headers, body: body, timeout: config.timeout)
        let response: HTTPResponse
        do {
            response = try HTTPClient().send(request)
        } catch let error as HTTPError {
            throw Failure(description: error.description)
        }
        guard expect.contains(response.status) else {
            throw Failure(description: "\(request.hostForMessages) answered \(response.status): \(String(response.bodyText.prefix(200)))")
        }
    }

    private func loadState() -> [String: Double] {
        guard let data = FileManager.default.contents(atPath: statePath),
              let object = try? JSONDecoder().decode([String: Double].self, from: data) else { return [:] }
        return object
    }

    private func saveState(_ state: [String: Double]) {
        let directory = (statePath as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard let data = try? JSONEncoder().encode(state) else { return }
        try? data.write(to: URL(fileURLWithPath: statePath), options: .atomic)
    }
}
