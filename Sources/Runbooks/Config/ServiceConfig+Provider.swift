import Checks
import Foundation

/// `service.provider`: the signing scheme and secret, extra delivery headers, the synthetic event's
/// shape and the provider's event-list API. Checked key by key like the rest of `service:`.
extension ServiceConfig {
    static let providerKeys = ["scheme", "secret_env", "webhook_path", "headers", "synthetic_event", "events_api"]
    static let syntheticEventKeys = ["type", "data"]
    static let eventsAPIKeys = ["url", "auth", "pagination", "items", "id", "type", "created", "limit_param", "page_size",
                                "cursor_param", "next_cursor", "has_more", "total_pages", "since_param", "since_format", "query"]
    static let eventsAPITextKeys = ["url", "items", "id", "type", "created", "limit_param", "cursor_param", "next_cursor",
                                    "has_more", "total_pages", "since_param"]
    static let authKeys = ["header", "format", "secret_env"]

    /// Checks one `provider:` mapping as written; errors name file:line:col.
    static func checkProvider(_ node: YAMLValue, file: String, what: String) throws {
        func fail(_ n: YAMLValue, _ message: String, _ hint: String? = nil) -> LoadError {
            LoadError(file: file, line: n.position.line, column: n.position.column, message: message, hint: hint)
        }
        func keys(_ n: YAMLValue, _ allowed: [String], _ what: String) throws -> [(key: String, value: YAMLValue)] {
            guard case let .mapping(pairs, _) = n else { throw fail(n, "\(what) must be a mapping, not \(n.kindName)") }
            for pair in pairs where !allowed.contains(pair.key) {
                throw LoadError(file: file, line: pair.keyPosition.line, column: pair.keyPosition.column,
                                message: "unknown key '\(pair.key)' in \(what)\(closest(to: pair.key, in: allowed).map { ", did you mean '\($0)'?" } ?? "")",
                                hint: "known keys: \(allowed.joined(separator: ", "))")
            }
            return pairs.map { (key: $0.key, value: $0.value) }
        }
        func text(_ n: YAMLValue, _ what: String) throws {
            guard case .scalar = n, n.string != nil else { throw fail(n, "\(what) must be a string, not \(n.kindName)") }
        }
        func oneOf(_ n: YAMLValue, _ what: String, _ allowed: [String]) throws {
            try text(n, what)
            guard let name = n.string, allowed.contains(name) else {
                throw fail(n, "\(what) '\(n.string ?? "")' is not one of \(allowed.joined(separator: ", "))")
            }
        }
        func textMap(_ n: YAMLValue, _ what: String) throws {
            guard case let .mapping(pairs, _) = n else { throw fail(n, "\(what) must be a mapping of names to strings, not \(n.kindName)") }
            for pair in pairs { try text(pair.value, "\(what).\(pair.key)") }
        }
        for (key, value) in try keys(node, providerKeys, what) {
            let path = "\(what).\(key)"
            switch key {
            case "scheme": try oneOf(value, path, ServiceMapping.Provider.schemeNames + ["standard-webhooks"])
            case "secret_env", "webhook_path": try text(value, path)
            case "headers": try textMap(value, path)
            case "synthetic_event":
                for (k, v) in try keys(value, syntheticEventKeys, path) {
                    if k == "type" { try text(v, "\(path).type") }
                    if k == "data" {
                        guard case .mapping = v else { throw fail(v, "\(path).data must be a mapping of the event's fields, not \(v.kindName)") }
                    }
                }
            case "events_api":
                let pairs = try keys(value, eventsAPIKeys, path)
                guard pairs.contains(where: { $0.key == "url" }) else {
                    throw fail(value, "\(path) needs a url (the provider's event list, e.g. https://api.stripe.com/v1/events)")
                }
                for (k, v) in pairs {
                    let keyPath = "\(path).\(k)"
                    switch k {
                    case "pagination": try oneOf(v, keyPath, EventsAPI.Pagination.allCases.map(\.rawValue))
                    case "since_format": try oneOf(v, keyPath, EventsAPI.TimeFormat.allCases.map(\.rawValue))
                    case "page_size":
                        guard let n = Int(v.string ?? ""), (1...1000).contains(n) else {
                            throw fail(v, "\(keyPath) must be a whole number from 1 to 1000, not '\(v.string ?? v.kindName)'")
                        }
                    case "query": try textMap(v, keyPath)
                    case "auth":
                        let auth = try keys(v, authKeys, keyPath)
                        for (a, av) in auth { try text(av, "\(keyPath).\(a)") }
                        guard auth.contains(where: { $0.key == "secret_env" }) else {
                            throw fail(v, "\(keyPath) needs secret_env: the env var holding the API key (never the key itself)")
                        }
                        if let format = v.value("format"), !(format.string ?? "").contains("{secret}") {
                            throw fail(format, "\(keyPath).format must contain {secret}, e.g. \"Bearer {secret}\"")
                        }
                    default: try text(v, keyPath)
                    }
                }
            default: break
            }
        }
    }

    /// The typed provider from the merged JSON (already checked).
    static func provider(_ p: JSONValue) -> ServiceMapping.Provider {
        var provider = ServiceMapping.Provider(scheme: p["scheme"]?.string.flatMap(ServiceMapping.Provider.canonicalScheme),
                                               secretEnv: p["secret_env"]?.string, webhookPath: p["webhook_path"]?.string)
        provider.headers = (p["headers"]?.object ?? [:]).mapValues { $0.string ?? $0.jsonText }
        if let s = p["synthetic_event"] {
            provider.syntheticEvent = SyntheticEventShape(type: s["type"]?.string, data: s["data"]?.object ?? [:])
        }
        if let e = p["events_api"], let url = e["url"]?.string {
            var api = EventsAPI(url: url)
            if let auth = e["auth"] {
                api.authSecretEnv = auth["secret_env"]?.string
                api.authHeader = auth["header"]?.string ?? api.authHeader
                api.authFormat = auth["format"]?.string ?? api.authFormat
            }
            api.pagination = e["pagination"]?.string.flatMap(EventsAPI.Pagination.init(rawValue:)) ?? .cursor
            api.items = e["items"]?.string ?? api.items
            api.idField = e["id"]?.string ?? api.idField
            api.typeField = e["type"]?.string ?? api.typeField
            api.createdField = e["created"]?.string ?? api.createdField
            api.limitParam = e["limit_param"]?.string ?? api.limitParam
            api.pageSize = e["page_size"]?.int ?? e["page_size"]?.string.flatMap { Int($0) } ?? api.pageSize
            api.cursorParam = e["cursor_param"]?.string
            api.nextCursorField = e["next_cursor"]?.string ?? api.nextCursorField
            api.hasMoreField = e["has_more"]?.string ?? api.hasMoreField
            api.totalPagesField = e["total_pages"]?.string
            api.sinceParam = e["since_param"]?.string
            api.sinceFormat = e["since_format"]?.string.flatMap(EventsAPI.TimeFormat.init(rawValue:)) ?? .unix
            api.query = (e["query"]?.object ?? [:]).mapValues { $0.string ?? $0.jsonText }
            provider.eventsAPI = api
        }
        return provider
    }
}
