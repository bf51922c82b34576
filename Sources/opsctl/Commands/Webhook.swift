import ArgumentParser
import Checks
import Foundation
import Runbooks
import Support
import Webhooks

extension Opsctl {
    struct Webhook: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "webhook",
            abstract: "Sign or send test webhooks in the service's scheme (Whop, Standard Webhooks, Stripe, Shopify), shaped as the provider sends them.",
            subcommands: [Sign.self, Send.self])

        struct Options: ParsableArguments {
            @Option(name: .long, help: "Event type, e.g. invoice.payment_failed (Stripe) or orders/paid (Shopify, sent as X-Shopify-Topic). Default: service.provider.synthetic_event.type, else the scheme's usual test type.")
            var type: String?

            @Option(name: .long, help: "JSON file sent verbatim instead of a synthetic event.")
            var payload: String?

            @Option(name: .long, help: "whop, standard, stripe or shopify (default: the environment's webhook.scheme / service.provider.scheme).")
            var scheme: String?

            @Option(name: .long, help: "Env var holding the signing secret (default: the environment's webhook.secret_env).")
            var secretEnv: String?

            @Option(name: .long, help: "Event id (default: opsctl_synthetic_<uuid>).")
            var id: String?

            @Option(name: .long, help: "Fields for the synthetic event's data (Stripe: data.object; Shopify: the resource), as key=value (repeatable); over service.provider.synthetic_event.data.")
            var data: [String] = []

            func validate() throws {
                if let scheme, WebhookScheme(name: scheme) == nil { throw ValidationError("--scheme must be \(WebhookScheme.namesForMessages)") }
                for d in data where !d.contains("=") { throw ValidationError("--data '\(d)' must be key=value") }
            }

            var params: [String: JSONValue] {
                var p: [String: JSONValue] = [:]
                if let type { p["type"] = .string(type) }
                if let payload { p["payload_file"] = .string(payload) }
                if let scheme { p["scheme"] = .string(scheme) }
                if let secretEnv { p["secret_env"] = .string(secretEnv) }
                if let id { p["event_id"] = .string(id) }
                var fields: [String: JSONValue] = [:]
                for d in data {
                    let kv = d.split(separator: "=", maxSplits: 1).map(String.init)
                    fields[kv[0]] = Int(kv[1]).map(JSONValue.int) ?? .string(kv[1])
                }
                if !fields.isEmpty { p["payload"] = .object(fields) }
                return p
            }
        }

        struct Sign: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "sign",
                abstract: "Print the signature headers (and body) for a payload; sends nothing.",
                discussion: """
                    Example:
                      opsctl webhook sign                      # the profile's synthetic_event, signed
                      opsctl webhook sign --scheme stripe --type invoice.payment_failed --secret-env STRIPE_WEBHOOK_SECRET
                      opsctl webhook sign --scheme shopify --type orders/paid --data email=a@example.com --secret-env SHOPIFY_API_SECRET
                      opsctl webhook sign --payload event.json --scheme standard --secret-env WEBHOOK_SECRET
                    """)

            @OptionGroup var webhook: Options
            @OptionGroup var global: GlobalOptions

            func run() throws {
                let service = RunService(global: global)
                let (_, env) = try service.environment()
                var context = StepContext(baseURL: env.baseURL ?? "http://localhost")
                context.webhookScheme = env.webhookScheme
                context.webhookSecretVariable = env.webhookSecretEnv
                context.webhookPath = env.webhookPath
                context.service = env.service
                do {
                    let delivery = try WebhookDelivery.build(StepParameters(webhook.params, stepID: "sign"), context: context)
                    // The signature is derived from the secret, not the secret itself: printing it is the point.
                    for (name, value) in delivery.headers { print("\(name): \(value)") }
                    print("")
                    print(String(decoding: delivery.body, as: UTF8.self))
                } catch let error as StepError {
                    Terminal.error(SecretMasker.shared.mask(error.message))
                    throw ExitCode(65)
                }
            }
        }

        struct Send: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "send",
                abstract: "Send a signed webhook to the environment's intake and check the answer.",
                discussion: """
                    Example:
                      opsctl webhook send --data customer=cus_123 --env staging
                      opsctl webhook send --scheme stripe --type invoice.payment_failed --url /webhooks/stripe
                    """)

            @OptionGroup var webhook: Options

            @Option(name: .long, help: "Intake URL (default: base_url + webhook.path).")
            var url: String?

            @Option(name: .long, help: "Expected HTTP status.")
            var expectStatus: Int = 200

            @OptionGroup var global: GlobalOptions

            func run() throws {
                var params = webhook.params
                if let url { params["url"] = .string(url) }
                params["expect_status"] = .int(expectStatus)
                try RunService(global: global).runStep(kind: WebhookSend.name, id: "send", title: "signed webhook", with: params)
            }
        }
    }
}
