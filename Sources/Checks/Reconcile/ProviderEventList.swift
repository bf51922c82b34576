import Foundation
import HTTP
import Support

/// One event as the provider lists it: its id, type and the object itself (a replay plan line).
struct ProviderEvent {
    var id: String
    var type: String
    var line: String
}

/// Pages through a provider's event-list API as `service.provider.events_api` describes it: cursor,
/// Stripe (`starting_after` + `has_more`), page number or RFC 8288 `Link` pagination, an auth header
/// built from a secret env var, a `since` window, 429 answered by waiting (bounded), 5xx retried twice.
struct ProviderEventList {
    let api: EventsAPI
    /// The first page's URL without paging parameters (absolute).
    let url: String
    let headers: [(name: String, value: String)]
    let since: Date?
    let maxPages: Int
    /// Bounds on waiting: 429s per page and the longest single wait (Retry-After is capped to it).
    static let maxRateLimitRetries = 3
    static let maxWait: Double = 60
    static let maxServerErrorRetries = 2

    struct Listing {
        var events: [ProviderEvent] = []
        var pages = 0
        /// Listed but created before the window (dropped).
        var outsideWindow = 0
        var waitedSeconds: Double = 0
    }

    /// The request headers: the configured auth (secret read from its env var, registered for masking) plus `extra`.
    static func requestHeaders(_ api: EventsAPI, context: StepContext, extra: [String: JSONValue]) throws -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        if let variable = api.authSecretEnv {
            guard let secret = context.environment[variable], !secret.isEmpty else {
                throw StepError("\(variable) is not set: export the provider API key it names (service.provider.events_api.auth.secret_env)",
                                details: ["secret_env": .string(variable)])
            }
            SecretMasker.shared.register(secret)
            out.append((name: api.authHeader, value: api.authFormat.replacingOccurrences(of: "{secret}", with: secret)))
        }
        for (name, value) in extra.sorted(by: { $0.key < $1.key }) {
            out.removeAll { $0.name.lowercased() == name.lowercased() }
            out.append((name: name, value: value.string ?? value.jsonText))
        }
        return out
    }

    func fetch(_ context: StepContext) throws -> Listing {
        var listing = Listing()
        var seen = Set<String>()
        var next: String? = pageURL(cursor: nil, page: 1)
        var cursor: String?
        var page = 1
        while let current = next, listing.pages < maxPages {
            let response = try get(current, pageNumber: listing.pages + 1, context: context, listing: &listing)
            listing.pages += 1
            let host = HTTPRequest(method: "GET", url: current).hostForMessages
            guard let object = response.json else {
                throw StepError("provider list \(host): page \(listing.pages) is not JSON (\(String(SecretMasker.shared.mask(response.bodyText).prefix(120))))")
            }
            let list: Any? = api.items.isEmpty ? object : Self.value(object, at: api.items)
            guard let items = list as? [Any] else {
                throw StepError("provider list \(host): page \(listing.pages) has no list at '\(api.items.isEmpty ? "(top level)" : api.items)': set service.provider.events_api.items to where the events are")
            }
            var lastID: String?
            for item in items {
                guard let dict = item as? [String: Any], let id = Self.text(Self.value(dict, at: api.idField)) else { continue }
                lastID = id
                if let since, let created = Self.date(Self.value(dict, at: api.createdField)), created < since {
                    listing.outsideWindow += 1
                    continue
                }
                guard seen.insert(id).inserted, JSONSerialization.isValidJSONObject(dict),
                      let line = try? JSONSerialization.data(withJSONObject: dict, options: [.sortedKeys]) else { continue }
                let type = Self.text(Self.value(dict, at: api.typeField)) ?? "?"
                listing.events.append(ProviderEvent(id: id, type: type, line: String(decoding: line, as: UTF8.self)))
            }
            context.progress?("provider list: \(listing.events.count) events, \(listing.pages) pages")
            next = nil
            guard !items.isEmpty else { break }
            let top = object as? [String: Any] ?? [:]
            switch api.pagination {
            case .cursor:
                let more = Self.value(top, at: api.hasMoreField) as? Bool
                guard more != false, let given = Self.text(Self.value(top, at: api.nextCursorField)), given != cursor else { break }
                cursor = given
                next = pageURL(cursor: given, page: nil)
            case .stripe:
                guard (Self.value(top, at: api.hasMoreField) as? Bool) == true, let lastID else { break }
                next = pageURL(cursor: lastID, page: nil)
            case .page:
                page += 1
                if let field = api.totalPagesField, let total = Self.number(Self.value(top, at: field)), page > total { break }
                next = pageURL(cursor: nil, page: page)
            case .link:
                guard let link = response.header("link"), let target = Self.nextLink(link),
                      let resolved = URL(string: target, relativeTo: URL(string: current))?.absoluteString, resolved != current else { break }
                next = resolved
            }
        }
        return listing
    }

    /// The URL of a page: the configured constant query, the page size, the since window and the cursor
    /// or page number. (A `Link` style API's later pages come whole from its header.)
    func pageURL(cursor: String?, page: Int?) -> String {
        guard var components = URLComponents(string: url) else { return url }
        var items = components.queryItems ?? []
        for (name, value) in api.query.sorted(by: { $0.key < $1.key }) { items.append(URLQueryItem(name: name, value: value)) }
        items.append(URLQueryItem(name: api.limitParam, value: String(api.pageSize)))
        if let since, let param = api.effectiveSinceParam {
            let value = api.sinceFormat == .unix ? String(Int(since.timeIntervalSince1970))
                : ISO8601DateFormatter().string(from: since)
            items.append(URLQueryItem(name: param, value: value))
        }
        if let cursor { items.append(URLQueryItem(name: api.effectiveCursorParam, value: cursor)) }
        if api.pagination == .page, let page { items.append(URLQueryItem(name: api.effectiveCursorParam, value: String(page))) }
        components.queryItems = items
        // `+` in a query value is a space to most servers: spell it out.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return components.string ?? url
    }

    /// One page, with the waits and retries a provider asks for; clear errors naming the host otherwise.
    func get(_ url: String, pageNumber: Int, context: StepContext, listing: inout Listing) throws -> HTTPResponse {
        var request = HTTPRequest(method: "GET", url: url, timeout: 30)
        request.headers = headers + [(name: "Accept", value: "application/json")]
        let host = request.hostForMessages
        var rateLimited = 0
        var serverErrors = 0
        while true {
            let response: HTTPResponse
            do {
                response = try context.send(request)
            } catch let error as StepError {
                throw StepError("provider list \(host): \(error.message) — check service.provider.events_api.url (or --provider-url) and that the host is reachable from here",
                                details: error.details)
            }
            switch response.status {
            case 200..<300:
                return response
            case 401, 403:
                let fix = api.authSecretEnv.map { "check that \($0) holds a live API key allowed to list events (service.provider.events_api.auth)" }
                    ?? "declare the API key: service.provider.events_api.auth: { secret_env: NAME } (format defaults to \"Bearer {secret}\")"
                throw StepError("provider list \(host) answered \(response.status) \(response.status == 401 ? "Unauthorized" : "Forbidden") on page \(pageNumber): \(fix)",
                                details: ["host": .string(host), "status_code": .int(response.status)])
            case 429 where rateLimited < Self.maxRateLimitRetries:
                rateLimited += 1
                let wait = min(Self.maxWait, ReplayDelivery.retryAfter(response) ?? pow(2, Double(rateLimited)))
                context.progress?("provider list \(host): 429 Too Many Requests, waiting \(Int(wait.rounded(.up))) s (Retry-After)")
                try pause(wait, context: context)
                listing.waitedSeconds += wait
            case 429:
                throw StepError("provider list \(host) still answered 429 Too Many Requests on page \(pageNumber) after \(Self.maxRateLimitRetries) waits (Retry-After: \(response.header("retry-after") ?? "absent")): try again later, narrow the window (--since), or raise page_size to need fewer requests",
                                details: ["host": .string(host), "status_code": .int(429)])
            case 500...599 where serverErrors < Self.maxServerErrorRetries:
                serverErrors += 1
                try pause(0.5 * pow(2, Double(serverErrors - 1)), context: context)
            case 500...599:
                throw StepError("provider list \(host) answered \(response.status) on page \(pageNumber) (\(Self.excerpt(response))) after \(Self.maxServerErrorRetries + 1) tries: the provider is failing — try again later and check its status page",
                                details: ["host": .string(host), "status_code": .int(response.status)])
            default:
                throw StepError("provider list \(host) answered \(response.status) on page \(pageNumber) (\(Self.excerpt(response))): check service.provider.events_api (url, query, pagination)",
                                details: ["host": .string(host), "status_code": .int(response.status)])
            }
        }
    }

    /// Sleeps in small steps so an interrupt is noticed.
    func pause(_ seconds: Double, context: StepContext) throws {
        let until = Date().addingTimeInterval(seconds)
        while Date() < until {
            if context.cancellation.isCancelled { throw StepError("interrupted while waiting for the provider's rate limit") }
            Thread.sleep(forTimeInterval: min(0.05, max(0, until.timeIntervalSinceNow)))
        }
    }

    static func excerpt(_ response: HTTPResponse) -> String {
        let text = response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "empty body" : String(SecretMasker.shared.mask(text).prefix(160))
    }

    /// The `rel="next"` target of an RFC 8288 Link header (`<url>; rel="next", <url>; rel="last"`).
    static func nextLink(_ header: String) -> String? {
        for part in header.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let target = pieces.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
            let rels = pieces.dropFirst().filter { $0.lowercased().hasPrefix("rel=") }
                .flatMap { $0.dropFirst(4).trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased().split(separator: " ") }
            if rels.contains("next") { return String(target.dropFirst().dropLast()) }
        }
        return nil
    }

    /// A dotted path (`data.items`) into decoded JSON.
    static func value(_ object: Any, at path: String) -> Any? {
        var current: Any? = object
        for key in path.split(separator: ".") {
            current = (current as? [String: Any])?[String(key)]
        }
        return current
    }

    static func text(_ value: Any?) -> String? {
        if let s = value as? String, !s.isEmpty { return s }
        if let n = value as? NSNumber, !(value is Bool) { return n.stringValue }
        return nil
    }

    static func number(_ value: Any?) -> Int? {
        if let n = value as? NSNumber, !(value is Bool) { return n.intValue }
        return (value as? String).flatMap { Int($0) }
    }

    /// Unix seconds (or milliseconds) or ISO 8601; nil when absent or unreadable (the event is kept).
    static func date(_ value: Any?) -> Date? {
        if let n = value as? NSNumber, !(value is Bool) {
            let v = n.doubleValue
            return Date(timeIntervalSince1970: v > 1e12 ? v / 1000 : v)
        }
        guard let s = value as? String, !s.isEmpty else { return nil }
        if let v = Double(s) { return Date(timeIntervalSince1970: v > 1e12 ? v / 1000 : v) }
        let f = ISO8601DateFormatter()
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: s)
    }
}
