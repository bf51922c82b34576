import Checks
import Foundation
@testable import Runbooks
import Testing
import TestSupport

/// opsctl.yaml's `service:` block: checked key by key, layered profile → shared → environment.
struct ServiceConfigTests {
    static let acme = """
        environments:
          local: { base_url: "http://127.0.0.1:9" }
          staging:
            base_url: "http://127.0.0.1:9"
            service:
              health: [{ path: /ready }]
              events: { table: staging.acme_hooks }
        service:
          health:
            - { path: /healthz, expect_status: [200, 204], expect: { service: acme }, latency_warn: 300ms }
          events:
            table: acme_hooks
            provider_id: hook_id
            type: kind
            payload: body
            received_at: arrived_at
            state: { column: state, pending: queued, processed: done, failed: dead }
            error: failure
            attempts: tries
          provider: { scheme: stripe, secret_env: ACME_STRIPE_SECRET, webhook_path: /hooks/stripe }
        """

    @Test func sharedBlockIsTypedAndEnvironmentsOverrideKeyByKey() throws {
        let config = try Config.parse(Self.acme, file: "/tmp/opsctl.yaml")
        let local = try config.environment("local")
        let events = try #require(local.service.events)
        #expect(events.table == "acme_hooks")
        #expect(events.state == .status(column: "state", pending: "queued", processed: "done", failed: "dead"))
        #expect(local.service.health == [.init(path: "/healthz", expectStatus: [200, 204], expect: ["service": "acme"], latencyWarn: "300ms")])
        #expect(local.webhookScheme == "stripe" && local.webhookSecretEnv == "ACME_STRIPE_SECRET" && local.webhookPath == "/hooks/stripe")
        #expect(local.json["service"]?["events"]?["state"]?["processed"]?.string == "done")

        let staging = try config.environment("staging")
        #expect(staging.service.events?.table == "staging.acme_hooks")
        #expect(staging.service.events?.providerID == "hook_id", "events merge key by key")
        #expect(staging.service.health.map(\.path) == ["/ready"], "health is replaced whole")
        #expect(staging.service.events?.tableSQL == "\"staging\".\"acme_hooks\"")
    }

    @Test func noBlockMeansTheChurnSaverProfile() throws {
        let config = try Config.parse("environments:\n  local: { base_url: \"http://127.0.0.1:9\" }\n", file: "/tmp/opsctl.yaml")
        let env = try config.environment("local")
        #expect(env.service.profile == "churn-saver")
        #expect(env.service.events?.providerID == "whop_event_id")
        #expect(env.service.events?.receivedAtSQL() == "coalesce(\"received_at\", \"created_at\")")
        #expect(env.webhookScheme == "whop" && env.webhookPath == "/api/webhooks/whop")
        #expect(Config.builtin.environments["local"]?.service.events?.table == "events")
    }

    @Test func profileKeyStartsFromAShippedProfile() throws {
        let text = "environments:\n  local: {}\nservice:\n  profile: churn-saver\n  events: { table: events_v2 }\n"
        let env = try Config.parse(text, file: "/tmp/opsctl.yaml").environment("local")
        #expect(env.service.events?.table == "events_v2")
        #expect(env.service.events?.providerID == "whop_event_id")
    }

    @Test(arguments: [
        ("service:\n  event: {}\n", 2, 3, "unknown key 'event' in service, did you mean 'events'?"),
        ("service:\n  events: { tabel: x }\n", 2, 13, "unknown key 'tabel' in service.events"),
        ("service:\n  health: /healthz\n", 2, 11, "service.health must be a list"),
        ("service:\n  health: [{ expect: {} }]\n", 2, 12, "needs a path"),
        ("service:\n  health: [{ path: /h, expect_status: ok }]\n", 2, 39, "expect_status must be a whole number"),
        ("service:\n  provider: { scheme: paddle }\n", 2, 23, "scheme 'paddle' is not one of whop, standard, stripe, shopify"),
        ("service:\n  provider: { secret: x }\n", 2, 15, "unknown key 'secret' in service.provider"),
        ("service:\n  provider:\n    events_api: { url: /e, pagination: offset }\n", 3, 40, "pagination 'offset' is not one of cursor, stripe, page, link"),
        ("service:\n  provider:\n    events_api: { url: /e, cursor: x }\n", 3, 28, "unknown key 'cursor' in service.provider.events_api"),
        ("service:\n  provider:\n    events_api: { pagination: page }\n", 3, 17, "needs a url"),
        ("service:\n  provider:\n    events_api: { url: /e, auth: { header: X-Key } }\n", 3, 34, "auth needs secret_env"),
        ("service:\n  provider:\n    events_api: { url: /e, auth: { secret_env: K, format: \"Bearer sk_live\" } }\n", 3, 59, "format must contain {secret}"),
        ("service:\n  provider:\n    events_api: { url: /e, page_size: 5000 }\n", 3, 39, "page_size must be a whole number from 1 to 1000"),
        ("service:\n  provider:\n    synthetic_event: { kind: x }\n", 3, 24, "unknown key 'kind' in service.provider.synthetic_event"),
        ("service:\n  provider:\n    synthetic_event: { data: [a] }\n", 3, 30, "synthetic_event.data must be a mapping"),
        ("service:\n  provider:\n    headers: { X-Shop: [a] }\n", 3, 24, "headers.X-Shop must be a string"),
        ("service:\n  events: { state: { column: s, type: enum } }\n", 2, 39, "state.type 'enum' is not one of"),
        ("service:\n  events: { table: t, provider_id: i, payload: p, state: { column: s, pending: a } }\n", 2, 3, "needs pending, processed and failed"),
        ("service:\n  events: { table: t, payload: p, state: { column: s } }\n", 2, 3, "service.events needs 'provider_id'"),
        ("service:\n  profile: stripe-webhookz\n", 2, 3, "no shipped profile 'stripe-webhookz'"),
    ])
    func mistakesNameFileLineAndColumn(_ block: String, _ line: Int, _ column: Int, _ message: String) throws {
        let text = block + "environments:\n  local: {}\n"
        do {
            _ = try Config.parse(text, file: "/tmp/opsctl.yaml")
            Issue.record("accepted: \(block)")
        } catch let error as LoadError {
            #expect(error.message.contains(message), "\(error)")
            #expect(error.line == line && error.column == column, "\(error)")
        }
    }

    @Test func providerBlockIsTyped() throws {
        let text = """
            environments:
              local: {}
              staging:
                service:
                  provider: { events_api: { url: "https://api.example.com/v2/events" } }
            service:
              provider:
                scheme: shopify
                secret_env: SHOPIFY_API_SECRET
                headers: { X-Shopify-Shop-Domain: acme.myshopify.com, X-Shopify-API-Version: "2025-07" }
                synthetic_event: { type: orders/paid, data: { email: opsctl_synthetic_buyer@example.com, total_price: "0.00" } }
                events_api:
                  url: https://api.stripe.com/v1/events
                  auth: { secret_env: STRIPE_API_KEY }
                  pagination: stripe
                  page_size: 50
                  query: { "types[]": invoice.payment_failed }
            """
        let config = try Config.parse(text, file: "/tmp/opsctl.yaml")
        let local = try config.environment("local")
        let provider = try #require(local.service.provider)
        #expect(provider.scheme == "shopify" && local.webhookScheme == "shopify" && local.webhookSecretEnv == "SHOPIFY_API_SECRET")
        #expect(provider.headers == ["X-Shopify-Shop-Domain": "acme.myshopify.com", "X-Shopify-API-Version": "2025-07"])
        #expect(provider.syntheticEvent == SyntheticEventShape(type: "orders/paid", data: ["email": "opsctl_synthetic_buyer@example.com", "total_price": "0.00"]))
        let api = try #require(provider.eventsAPI)
        #expect(api.url == "https://api.stripe.com/v1/events" && api.pagination == .stripe && api.pageSize == 50)
        #expect(api.authSecretEnv == "STRIPE_API_KEY" && api.authHeader == "Authorization" && api.authFormat == "Bearer {secret}")
        #expect(api.effectiveCursorParam == "starting_after" && api.effectiveSinceParam == "created[gte]")
        #expect(api.query == ["types[]": "invoice.payment_failed"])
        #expect(local.json["service"]?["provider"]?["events_api"]?["pagination"]?.string == "stripe")
        // An environment's events_api replaces the shared one whole (its auth and pagination do not leak in).
        let staging = try #require(try config.environment("staging").service.provider?.eventsAPI)
        #expect(staging.url == "https://api.example.com/v2/events" && staging.pagination == .cursor && staging.authSecretEnv == nil)
        #expect(try config.environment("staging").service.provider?.scheme == "shopify", "provider merges key by key")
    }

    @Test func environmentBlockMistakesNameTheEnvironment() throws {
        let text = "environments:\n  staging:\n    service: { helth: [] }\n"
        #expect(throws: LoadError.self) { try Config.parse(text, file: "/tmp/opsctl.yaml") }
        do { _ = try Config.parse(text, file: "/tmp/opsctl.yaml") } catch let error as LoadError {
            #expect(error.message.contains("in environments.staging.service"), "\(error)")
            #expect(error.line == 3)
        }
    }

    @Test func theCommandLineRejectsABadBlockWithExit65() throws {
        let dir = TemporaryDirectory()
        _ = try dir.write("opsctl.yaml", "environments:\n  local: {}\nservice:\n  events: { tabel: x }\n")
        let result = try Opsctl.run(["replay", "--failed", "--dry-run"], directory: dir.path)
        #expect(result.exitCode == 65, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("opsctl.yaml:4:13"), "\(result.stderr)")
    }

    @Test func initWritesACommentedConfigThatLoadsAsTheProfile() throws {
        let dir = TemporaryDirectory()
        let written = try Opsctl.run(["init", "--profile", "churn-saver", "--dir", dir.path + "/ops"])
        #expect(written.exitCode == 0, "\(written.stdout)\(written.stderr)")
        let text = try String(contentsOfFile: dir.path + "/ops/opsctl.yaml", encoding: .utf8)
        #expect(text.contains("#    provider_id: whop_event_id"), "every key of the profile is shown, commented")
        #expect(FileManager.default.fileExists(atPath: dir.path + "/ops/runbooks"))
        let env = try Config.parse(text, file: dir.path + "/ops/opsctl.yaml").environment(nil)
        #expect(env.service == ServiceConfig.defaultMapping)

        let again = try Opsctl.run(["init", "--profile", "churn-saver", "--dir", dir.path + "/ops"])
        #expect(again.exitCode == 1 && again.stderr.contains("not overwriting"), "\(again.stderr)")
        let unknown = try Opsctl.run(["init", "--profile", "churn-saverr", "--dir", dir.path])
        #expect(unknown.exitCode == 64 && unknown.stderr.contains("did you mean 'churn-saver'?"), "\(unknown.stderr)")
    }
}
