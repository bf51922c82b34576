import Checks
import Foundation

/// opsctl.yaml's `notify:` block: where run transitions (ok → fail, fail → ok) are sent. Only the
/// names of the variables holding webhook URLs, routing keys and signing secrets appear here.
public struct NotifyConfig: Sendable, Equatable {
    public struct Slack: Sendable, Equatable {
        /// Env var holding the incoming-webhook URL (the URL is the credential).
        public var webhookURLEnv: String
    }

    public struct PagerDuty: Sendable, Equatable {
        public var routingKeyEnv: String
        /// Events API v2 endpoint (a proxy or a test receiver may replace it).
        public var url: String = "https://events.pagerduty.com/v2/enqueue"
        /// `critical`, `error`, `warning` or `info`.
        public var severity: String = "error"
    }

    public struct Webhook: Sendable, Equatable {
        /// The URL, or the env var holding it (one of the two).
        public var url: String?
        public var urlEnv: String?
        /// Env var holding a Standard Webhooks secret (`whsec_…`): payloads are signed when set.
        public var secretEnv: String?
    }

    public var slack: Slack?
    public var pagerduty: PagerDuty?
    public var webhook: Webhook?
    /// Runbooks whose transitions are sent (empty: all).
    public var runbooks: [String] = []
    /// A link to the run, `{run_id}` replaced (a CI job page, a log search).
    public var runURL: String?
    /// At most one message per step and channel in this interval: a flapping check does not page every run.
    public var minInterval: Double = 0
    /// Per-delivery timeout.
    public var timeout: Double = 10

    public var isEmpty: Bool { slack == nil && pagerduty == nil && webhook == nil }

    static let keys = ["slack", "pagerduty", "webhook", "runbooks", "run_url", "min_interval", "timeout"]

    /// Parses and checks the block; every problem names file:line:col.
    static func parse(_ node: YAMLValue, file: String) throws -> NotifyConfig {
        let values = StrictValues(file: file)
        _ = try values.mapping(node, "notify", keys: keys)
        var config = NotifyConfig()
        if let slack = node.value("slack") {
            _ = try values.mapping(slack, "notify.slack", keys: ["webhook_url_env"])
            guard let variable = slack.value("webhook_url_env") else { throw values.fail(slack, "'notify.slack' needs webhook_url_env (the variable holding the incoming-webhook URL)") }
            config.slack = Slack(webhookURLEnv: try values.text(variable, "notify.slack.webhook_url_env"))
        }
        if let pd = node.value("pagerduty") {
            _ = try values.mapping(pd, "notify.pagerduty", keys: ["routing_key_env", "url", "severity"])
            guard let variable = pd.value("routing_key_env") else { throw values.fail(pd, "'notify.pagerduty' needs routing_key_env (the variable holding the integration's routing key)") }
            var pagerduty = PagerDuty(routingKeyEnv: try values.text(variable, "notify.pagerduty.routing_key_env"))
            if let url = pd.value("url") { pagerduty.url = try values.text(url, "notify.pagerduty.url") }
            if let severity = pd.value("severity") {
                pagerduty.severity = try values.oneOf(severity, "notify.pagerduty.severity", ["critical", "error", "warning", "info"])
            }
            config.pagerduty = pagerduty
        }
        if let hook = node.value("webhook") {
            _ = try values.mapping(hook, "notify.webhook", keys: ["url", "url_env", "secret_env"])
            var webhook = Webhook()
            webhook.url = try hook.value("url").map { try values.text($0, "notify.webhook.url") }
            webhook.urlEnv = try hook.value("url_env").map { try values.text($0, "notify.webhook.url_env") }
            webhook.secretEnv = try hook.value("secret_env").map { try values.text($0, "notify.webhook.secret_env") }
            guard (webhook.url == nil) != (webhook.urlEnv == nil) else { throw values.fail(hook, "'notify.webhook' needs url or url_env (one of them)") }
            config.webhook = webhook
        }
        config.runbooks = try node.value("runbooks").map { try values.textList($0, "notify.runbooks") } ?? []
        config.runURL = try node.value("run_url").map { try values.text($0, "notify.run_url") }
        config.minInterval = try node.value("min_interval").map { try values.duration($0, "notify.min_interval") } ?? 0
        config.timeout = try node.value("timeout").map { try values.duration($0, "notify.timeout") } ?? 10
        return config
    }
}
