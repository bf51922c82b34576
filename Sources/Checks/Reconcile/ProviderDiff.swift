import Foundation
import HTTP
import Postgres
import Support

/// "Find missing": lists the provider's events (its event-list API as `service.provider.events_api`
/// declares it, or an export file) and reports the events the service's database lacks, writing them
/// as a JSON-lines replay plan that `webhooks.replay from_file` sends.
public struct ProviderDiff: StepKind {
    public static let name = "reconcile.provider_diff"
    public static let summary = "Compare the provider's event list (its paginated API per service.provider.events_api, or an export file) with the event store (service.events); write the missing ones as a replay plan"
    public static let parameters: [ParameterSpec] = [
        .init("url", .string, "the provider's event-list API (default: service.provider.events_api.url); a path is relative to base_url"),
        .init("file", .string, "or: a JSON-lines export of the provider's events"),
        .init("since", .duration, "only events created in this window (e.g. 24h), sent as the provider expects (events_api.since_param; Stripe created[gte]); default: no window"),
        .init("plan_file", .string, "write the missing events here (JSON lines) for `opsctl replay --from-file`"),
        .init("page_size", .int, "events per page (default: events_api.page_size, else 100)"),
        .init("headers", .map, "extra request headers (the API key belongs in events_api.auth, read from an env var)"),
        .init("max_pages", .int, default: 10_000, "stop after this many pages"),
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
    ]
    public static let mutates = false
    public static let example = """
        - id: find-missing
          kind: reconcile.provider_diff
          with:
            file: /dev/null           # or url: /api/provider/events, or nothing: service.provider.events_api
            plan_file: /tmp/opsctl-missing-events.jsonl
        """

    let url: String?
    let file: String?
    let since: Double?
    let planFile: String?
    let pageSize: Int?
    let headers: [String: JSONValue]
    let maxPages: Int
    let variable: String?

    let stepID: String

    public init(_ p: StepParameters) throws {
        url = try p.nonEmptyString("url")
        file = try p.nonEmptyString("file")
        let window = p["since"] == nil || p["since"]?.string == "" ? 0 : try p.duration("since", default: 0)
        since = window > 0 ? window : nil
        planFile = try p.nonEmptyString("plan_file")
        pageSize = p["page_size"] == nil ? nil : min(1000, max(1, try p.int("page_size", default: 100)))
        headers = try p.map("headers")
        maxPages = max(1, try p.int("max_pages", default: 10_000))
        variable = try p.optionalString("database_url_env")
        stepID = p.stepID
        guard url == nil || file == nil else { throw StepError("step '\(p.stepID)': give url (the provider's list API) or file (an export), not both") }
    }

    /// The API to page through: the declared one, with `url`/`page_size` given here taking precedence.
    func eventsAPI(_ context: StepContext) throws -> EventsAPI {
        var api = context.service.provider?.eventsAPI ?? EventsAPI(url: "")
        if let url { api.url = url }
        if let pageSize { api.pageSize = pageSize }
        guard !api.url.isEmpty else {
            throw StepError("step '\(stepID)': no provider event list to compare with: declare service.provider.events_api (url, auth, pagination) in opsctl.yaml, or give url (--provider-url) or file",
                            details: ["missing": .string("service.provider.events_api")])
        }
        return api
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let started = Date()
        var events: [ProviderEvent]
        var details: [String: JSONValue] = [:]
        if file != nil {
            events = try read(context)
        } else {
            let api = try eventsAPI(context)
            let list = ProviderEventList(api: api, url: try context.resolve(url: api.url),
                                         headers: try ProviderEventList.requestHeaders(api, context: context, extra: headers),
                                         since: since.map { Date().addingTimeInterval(-$0) }, maxPages: maxPages)
            let listing = try list.fetch(context)
            events = listing.events
            details["pages"] = .int(listing.pages)
            details["pagination"] = .string(api.pagination.rawValue)
            details["source"] = .string(HTTPRequest(method: "GET", url: list.url).hostForMessages)
            if listing.outsideWindow > 0 { details["outside_window"] = .int(listing.outsideWindow) }
            if listing.waitedSeconds > 0 { details["rate_limited_wait_s"] = .double(listing.waitedSeconds) }
        }
        if let since { details["since"] = .string(DurationText.format(milliseconds: since * 1000) + " ago") }
        var missing: [ProviderEvent] = []
        if !events.isEmpty {
            let store = try context.service.eventStore(for: stepID)
            let present = try context.readOnlyQuery(variable: variable, statementTimeoutMs: 120_000) { db in
                Set(try db.query("""
                    SELECT \(store.providerIDSQL())::text FROM \(store.tableSQL) WHERE \(store.providerIDSQL())::text = ANY($1::text[])
                    """, [events.map(\.id)]).rows.compactMap { $0[0].string })
            }
            missing = events.filter { !present.contains($0.id) }
        }
        if let planFile {
            let text = missing.map { $0.line + "\n" }.joined()
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: planFile), options: .atomic) } catch {
                throw StepError("cannot write plan_file \(planFile): \(error.localizedDescription)")
            }
        }
        var byType: [String: JSONValue] = [:]
        for e in missing { byType[e.type] = .int((byType[e.type]?.int ?? 0) + 1) }
        details.merge([
            "provider_events": .int(events.count), "missing": .int(missing.count), "pages": details["pages"] ?? .int(0),
            "missing_by_type": .object(byType), "sample_ids": .array(missing.prefix(20).map { .string($0.id) }),
            "plan_file": planFile.map(JSONValue.string) ?? .null,
            "next": planFile.map { .string("opsctl replay --from-file \($0)") } ?? .null,
        ]) { $1 }
        let metrics = [Metric(name: "provider_events", value: Double(events.count), unit: "count"),
                       Metric(name: "missing_events", value: Double(missing.count), unit: "count")]
        let took = DurationText.format(milliseconds: Date().timeIntervalSince(started) * 1000)
        let window = details["since"]?.string.map { " created in the last \($0.replacingOccurrences(of: " ago", with: ""))" } ?? ""
        guard !missing.isEmpty else {
            return .ok("the database has all \(events.count) provider events\(window) (\(took))", details: details, metrics: metrics)
        }
        let types = byType.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.int ?? 0)" }.joined(separator: ", ")
        let next = planFile.map { "; replay them: opsctl replay --from-file \($0)" } ?? ""
        return .init(.fail, "\(missing.count) of \(events.count) provider events\(window) missing from the database (\(types))\(next)",
                     details: details, metrics: metrics)
    }

    /// An export file: one event object a line, read with the declared id/type fields (default id, type).
    func read(_ context: StepContext) throws -> [ProviderEvent] {
        guard let file, let data = ReplaySelection.read(file) else { throw StepError("cannot read file \(file ?? "")") }
        let api = context.service.provider?.eventsAPI ?? EventsAPI(url: "")
        var out: [ProviderEvent] = []
        for (n, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                  let id = ProviderEventList.text(ProviderEventList.value(object, at: api.idField)) else {
                throw StepError("\(file):\(n + 1): not a JSON object with a string id")
            }
            let type = ProviderEventList.text(ProviderEventList.value(object, at: api.typeField))
                ?? ProviderEventList.text(object["action"]) ?? "?"
            out.append(ProviderEvent(id: id, type: type, line: text))
        }
        return out
    }
}
