import Checks
import Foundation
import Support

/// The messages each channel receives, built from the run and its transitions. Every string passes
/// the masker before it is put in a payload.
enum NotifyPayloads {
    struct Context {
        var report: RunReport
        var host: String
        var runURL: String?
    }

    static func text(_ s: String, limit: Int) -> String {
        let masked = SecretMasker.shared.mask(s)
        return masked.count <= limit ? masked : String(masked.prefix(limit - 1)) + "…"
    }

    static func environment(_ context: Context) -> String { context.report.environment ?? "default" }

    /// Slack incoming webhook: Block Kit (`blocks`) plus a `text` fallback for notifications.
    static func slack(_ transitions: [Transition], _ context: Context) -> JSONValue {
        let failing = transitions.filter { $0.direction == .trigger }
        let recovered = transitions.filter { $0.direction == .resolve }
        let runbook = context.report.runbook, env = environment(context)
        let headline = failing.isEmpty
            ? "✅ \(runbook) recovered on \(env)"
            : "🔴 \(runbook) failing on \(env): \(failing.count) step(s)"
        var blocks: [JSONValue] = [.object(["type": "header", "text": .object(["type": "plain_text", "text": .string(text(headline, limit: 150))])])]
        for t in failing.prefix(20) {
            var lines = "*\(t.step.title)* (`\(t.step.id)`) — \(t.step.status.rawValue)\n\(t.step.message)"
            if let remediation = t.step.remediation { lines += "\n_Next:_ \(remediation)" }
            blocks.append(.object(["type": "section", "text": .object(["type": "mrkdwn", "text": .string(text(lines, limit: 3000))])]))
        }
        if !recovered.isEmpty {
            let lines = recovered.prefix(20).map { "*\($0.step.title)* (`\($0.step.id)`) — \($0.from.rawValue) → \($0.step.status.rawValue): \($0.step.message)" }
            blocks.append(.object(["type": "section", "text": .object(["type": "mrkdwn", "text": .string(text("Recovered:\n" + lines.joined(separator: "\n"), limit: 3000))])]))
        }
        let link = context.runURL.map { "<\($0)|run \(context.report.runID)>" } ?? "run \(context.report.runID)"
        blocks.append(.object(["type": "context", "elements": .array([.object(["type": "mrkdwn", "text": .string(text("\(link) · opsctl on \(context.host)", limit: 3000))])])]))
        return .object(["text": .string(text(headline, limit: 3000)), "blocks": .array(blocks)])
    }

    /// PagerDuty Events API v2: one event per transition; the dedup key makes trigger and resolve one incident.
    static func pagerduty(_ t: Transition, routingKey: String, severity: String, _ context: Context) -> JSONValue {
        let key = Transition.key(runbook: context.report.runbook, environment: context.report.environment, step: t.step.id)
        var event: [String: JSONValue] = ["routing_key": .string(routingKey), "event_action": .string(t.direction.rawValue), "dedup_key": .string(key)]
        if t.direction == .trigger {
            var details: [String: JSONValue] = ["status": .string(t.step.status.rawValue), "message": .string(text(t.step.message, limit: 2000)),
                                                "run_id": .string(context.report.runID)]
            if let remediation = t.step.remediation { details["remediation"] = .string(text(remediation, limit: 2000)) }
            event["payload"] = .object([
                "summary": .string(text("\(context.report.runbook) on \(environment(context)): \(t.step.title) \(t.step.status.rawValue) — \(t.step.message)", limit: 1024)),
                "source": .string(text("opsctl@\(context.host)", limit: 255)),
                "severity": .string(severity),
                "component": .string(t.step.id), "group": .string(context.report.runbook), "class": .string(t.step.kind),
                "custom_details": .object(details),
            ])
            if let url = context.runURL { event["links"] = .array([.object(["href": .string(url), "text": .string("opsctl run \(context.report.runID)")])]) }
        }
        return .object(event)
    }

    /// The generic webhook: the run and its transitions as one JSON document.
    static func webhook(_ transitions: [Transition], _ context: Context) -> JSONValue {
        .object([
            "type": .string("opsctl.run.transitions"),
            "runbook": .string(context.report.runbook), "environment": .string(environment(context)),
            "run_id": .string(context.report.runID), "status": .string(context.report.status.rawValue),
            "host": .string(context.host), "run_url": context.runURL.map(JSONValue.string) ?? .null,
            "transitions": .array(transitions.map { t in
                .object(["step": .string(t.step.id), "title": .string(text(t.step.title, limit: 500)), "kind": .string(t.step.kind),
                         "action": .string(t.direction.rawValue), "from": .string(t.from.rawValue), "to": .string(t.step.status.rawValue),
                         "message": .string(text(t.step.message, limit: 2000)),
                         "remediation": t.step.remediation.map { .string(text($0, limit: 2000)) } ?? .null,
                         "dedup_key": .string(Transition.key(runbook: context.report.runbook, environment: context.report.environment, step: t.step.id))])
            }),
        ])
    }
}
