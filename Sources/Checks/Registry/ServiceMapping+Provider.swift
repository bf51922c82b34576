import Foundation
import Webhooks

extension ServiceMapping.Provider {
    /// The signing schemes opsctl.yaml may name (`standard-webhooks` is also accepted for `standard`).
    public static let schemeNames = WebhookScheme.allCases.map(\.rawValue)

    /// A scheme name as written, made canonical; nil when it names no scheme.
    public static func canonicalScheme(_ name: String) -> String? { WebhookScheme(name: name)?.rawValue }

    /// `headers` in a stable order, as the signer takes them.
    public var extraHeaders: [WebhookHeader] {
        headers.sorted { $0.key.lowercased() < $1.key.lowercased() }.map { (name: $0.key, value: $0.value) }
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = [:]
        if let scheme { o["scheme"] = .string(scheme) }
        if let secretEnv { o["secret_env"] = .string(secretEnv) }
        if let webhookPath { o["webhook_path"] = .string(webhookPath) }
        if !headers.isEmpty { o["headers"] = .object(headers.mapValues(JSONValue.string)) }
        if let syntheticEvent { o["synthetic_event"] = syntheticEvent.json }
        if let eventsAPI { o["events_api"] = eventsAPI.json }
        return .object(o)
    }
}

/// `service.provider.synthetic_event`: the service-specific part of the test event `verify` and
/// `webhook send` deliver. The envelope around `data` is the scheme's (WebhookDelivery builds it).
public struct SyntheticEventShape: Sendable, Equatable {
    /// The event type (Shopify: the topic, e.g. `orders/paid`); nil = the scheme's default.
    public var type: String?
    /// The fields the service reads: Stripe's `data.object`, Standard Webhooks' and Whop's `data`,
    /// Shopify's whole body (the resource).
    public var data: [String: JSONValue]

    public init(type: String? = nil, data: [String: JSONValue] = [:]) {
        self.type = type
        self.data = data
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["data": .object(data)]
        if let type { o["type"] = .string(type) }
        return .object(o)
    }
}

/// `service.provider.events_api`: how to list the provider's events (the provider's own API, or the
/// service's mirror of it) so reconcile can find the ones the service never stored.
public struct EventsAPI: Sendable, Equatable {
    /// How the next page is asked for.
    public enum Pagination: String, Sendable, CaseIterable {
        /// The page carries the next cursor (`next_cursor`); it goes back as `?cursor=`.
        case cursor
        /// Stripe: `?starting_after=<last id on the page>` while `has_more` is true.
        case stripe
        /// `?page=1, 2, …` until a page is empty or `total_pages` is reached.
        case page
        /// RFC 8288: follow the `Link: <…>; rel="next"` response header.
        case link
    }

    /// How `since` is written in the query.
    public enum TimeFormat: String, Sendable, CaseIterable {
        case unix, iso8601
    }

    /// The list endpoint: an absolute URL, or a path relative to the environment's base_url.
    public var url: String
    /// Authorization: `header: format` with `{secret}` replaced by the value of `secretEnv`.
    public var authHeader = "Authorization"
    public var authFormat = "Bearer {secret}"
    public var authSecretEnv: String?
    public var pagination = Pagination.cursor
    /// Dotted path of the list of events in a page (`data`); empty: the page itself is the list.
    public var items = "data"
    /// Fields of one event (dotted paths).
    public var idField = "id"
    public var typeField = "type"
    /// The event's creation time (unix seconds or ISO 8601); events older than the `since` window are dropped.
    public var createdField = "created"
    /// Query parameter carrying the page size, and its value.
    public var limitParam = "limit"
    public var pageSize = 100
    /// Query parameter carrying the cursor (cursor: `cursor`, stripe: `starting_after`, page: `page`).
    public var cursorParam: String?
    /// Field of a page with the next cursor (cursor style).
    public var nextCursorField = "next_cursor"
    /// Field of a page saying more pages follow (stripe style; cursor style reads it when present).
    public var hasMoreField = "has_more"
    /// Field of a page with the number of pages (page style; optional).
    public var totalPagesField: String?
    /// Query parameter carrying the start of the `since` window (stripe: `created[gte]`); nil: not sent.
    public var sinceParam: String?
    public var sinceFormat = TimeFormat.unix
    /// Constant query parameters sent with every page (e.g. `types[]: invoice.payment_failed`).
    public var query: [String: String] = [:]

    public init(url: String) { self.url = url }

    /// The cursor parameter, or the style's usual one.
    public var effectiveCursorParam: String {
        cursorParam ?? ["cursor": "cursor", "stripe": "starting_after", "page": "page"][pagination.rawValue] ?? "cursor"
    }

    /// The since parameter, or Stripe's `created[gte]` for the stripe style.
    public var effectiveSinceParam: String? {
        sinceParam ?? (pagination == .stripe ? "created[gte]" : nil)
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "url": .string(url), "pagination": .string(pagination.rawValue), "items": .string(items),
            "id": .string(idField), "type": .string(typeField), "created": .string(createdField),
            "limit_param": .string(limitParam), "page_size": .int(pageSize), "cursor_param": .string(effectiveCursorParam),
            "next_cursor": .string(nextCursorField), "has_more": .string(hasMoreField), "since_format": .string(sinceFormat.rawValue),
        ]
        if let authSecretEnv {
            o["auth"] = .object(["header": .string(authHeader), "format": .string(authFormat), "secret_env": .string(authSecretEnv)])
        }
        if let totalPagesField { o["total_pages"] = .string(totalPagesField) }
        if let since = effectiveSinceParam { o["since_param"] = .string(since) }
        if !query.isEmpty { o["query"] = .object(query.mapValues(JSONValue.string)) }
        return .object(o)
    }
}
