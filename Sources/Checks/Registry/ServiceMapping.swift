import Foundation
import Postgres

/// What one service looks like to opsctl: its health endpoints, its webhook event store and its
/// provider, as declared in opsctl.yaml's `service:` block (or a shipped profile). Step kinds read it
/// through `StepContext.service` and never name a table, column or endpoint themselves.
public struct ServiceMapping: Sendable, Equatable {
    /// The shipped profile the block starts from (`churn-saver`), if any.
    public var profile: String?
    public var health: [HealthEndpoint]
    public var events: EventStore?
    public var provider: Provider?
    /// Tables holding rows the service derives from a synthetic test event: after `verify`'s round trip,
    /// rows whose column starts with `opsctl_synthetic_` are deleted from them.
    public var syntheticCleanup: [SyntheticCleanup]
    /// Per-table retention (`service.retention[]`): what `opsctl maintain retention` deletes, in batches.
    public var retention: [RetentionPolicy] = []
    /// predeploy's environment-variable rules for this service (env.validate's `rules`); opsctl.yaml's
    /// per-environment `env_rules` replace them.
    public var envRules: [String: JSONValue] = [:]
    /// How to tell which release runs and how to roll the app back to one (`service.release`).
    public var release = ReleaseSettings()

    public init(profile: String? = nil, health: [HealthEndpoint] = [], events: EventStore? = nil, provider: Provider? = nil,
                syntheticCleanup: [SyntheticCleanup] = []) {
        self.profile = profile
        self.health = health
        self.events = events
        self.provider = provider
        self.syntheticCleanup = syntheticCleanup
    }

    public struct SyntheticCleanup: Sendable, Equatable {
        public var table: String
        public var column: String

        public init(table: String, column: String) {
            self.table = table
            self.column = column
        }

        public var tableSQL: String { quoteQualifiedName(table) }
    }

    /// The event store, or the error a step reports when the configuration declares none.
    public func eventStore(for step: String) throws -> EventStore {
        guard let events else {
            throw StepError("step '\(step)': opsctl.yaml declares no service.events (the webhook event store): add it, or 'profile: churn-saver'",
                            details: ["missing": .string("service.events")])
        }
        return events
    }

    /// One endpoint `health`, `verify` and `rollback` check.
    public struct HealthEndpoint: Sendable, Equatable {
        /// A path relative to the environment's base_url, or an absolute http(s) URL.
        public var path: String
        public var expectStatus: [Int]
        /// JSON fields the response must carry, as path -> value.
        public var expect: [String: JSONValue]
        public var latencyWarn: String?
        public var latencyCrit: String?

        public init(path: String, expectStatus: [Int] = [200], expect: [String: JSONValue] = [:],
                    latencyWarn: String? = nil, latencyCrit: String? = nil) {
            self.path = path
            self.expectStatus = expectStatus
            self.expect = expect
            self.latencyWarn = latencyWarn
            self.latencyCrit = latencyCrit
        }

        public var json: JSONValue {
            var o: [String: JSONValue] = ["path": .string(path), "expect_status": .array(expectStatus.map(JSONValue.int)),
                                          "expect": .object(expect)]
            if let latencyWarn { o["latency_warn"] = .string(latencyWarn) }
            if let latencyCrit { o["latency_crit"] = .string(latencyCrit) }
            return .object(o)
        }
    }

    /// How the service signs and receives webhooks (see ServiceMapping+Provider.swift for the parts).
    public struct Provider: Sendable, Equatable {
        /// `whop`, `stripe`, `standard` (Standard Webhooks) or `shopify`.
        public var scheme: String?
        public var secretEnv: String?
        public var webhookPath: String?
        /// Headers the provider sends with every delivery besides the signature (`X-Shopify-Shop-Domain`).
        public var headers: [String: String] = [:]
        /// What `verify` and `webhook send` put in a synthetic event: its type and the service's data fields.
        public var syntheticEvent: SyntheticEventShape?
        /// The provider's event-list API, for `reconcile --provider-url` / reconcile.provider_diff.
        public var eventsAPI: EventsAPI?

        public init(scheme: String? = nil, secretEnv: String? = nil, webhookPath: String? = nil) {
            self.scheme = scheme
            self.secretEnv = secretEnv
            self.webhookPath = webhookPath
        }
    }

    /// The mapping as `${config.service.*}` sees it.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["health": .array(health.map(\.json))]
        if let profile { o["profile"] = .string(profile) }
        if let events { o["events"] = events.json }
        if let provider { o["provider"] = provider.json }
        if !envRules.isEmpty { o["env_rules"] = .object(envRules) }
        if !syntheticCleanup.isEmpty {
            o["synthetic_cleanup"] = .array(syntheticCleanup.map { .object(["table": .string($0.table), "column": .string($0.column)]) })
        }
        if !retention.isEmpty { o["retention"] = .array(retention.map(\.json)) }
        if release != ReleaseSettings() { o["release"] = release.json }
        return .object(o)
    }
}
