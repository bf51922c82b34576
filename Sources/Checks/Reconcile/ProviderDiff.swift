import Foundation
import HTTP
import Postgres
import Support

/// "Find missing": pages through the provider's event list API and reports the events the service's
/// database lacks, writing them as a JSON-lines replay plan that `webhooks.replay from_file` sends.
public struct ProviderDiff: StepKind {
    public static let name = "reconcile.provider_diff"
    public static let summary = "Compare the provider's event list (paginated API or export file) with the event store (service.events); write the missing ones as a replay plan"
    public static let parameters: [ParameterSpec] = [
        .init("url", .string, "provider list API (`?after=<cursor>&limit=<n>` → {data, has_more, next_cursor}); a path is relative to base_url"),
        .init("file", .string, "or: a JSON-lines export of the provider's events"),
        .init("plan_file", .string, "write the missing events here (JSON lines) for `opsctl replay --from-file`"),
        .init("page_size", .int, default: 100, "events per page"),
        .init("headers", .map, "request headers, e.g. Authorization: Bearer ${env.WHOP_API_KEY}"),
        .init("max_pages", .int, default: 10_000, "stop after this many pages"),
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
    ]
    public static let mutates = false
    public static let example = """
        - id: find-missing
          kind: reconcile.provider_diff
          with:
            file: /dev/null           # or url: /api/provider/events
            plan_file: /tmp/opsctl-missing-events.jsonl
        """

    let url: String?
    let file: String?
    let planFile: String?
    let pageSize: Int
    let headers: [String: JSONValue]
    let maxPages: Int
    let variable: String?

    let stepID: String

    public init(_ p: StepParameters) throws {
        url = try p.optionalString("url").flatMap { $0.isEmpty ? nil : $0 }
        file = try p.optionalString("file").flatMap { $0.isEmpty ? nil : $0 }
        planFile = try p.optionalString("plan_file").flatMap { $0.isEmpty ? nil : $0 }
        pageSize = min(1000, max(1, try p.int("page_size", default: 100)))
        headers = try p.map("headers")
        maxPages = try p.int("max_pages", default: 10_000)
        variable = try p.optionalString("database_url_env")
        stepID = p.stepID
        guard (url == nil) != (file == nil) else { throw StepError("step '\(p.stepID)': give exactly one of url (the provider's list API) or file (an export)") }
    }

    struct ProviderEvent {
        var id: String
        var type: String
        var line: String
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let started = Date()
        let (events, pages) = try url != nil ? fetch(context) : (try read(), 0)
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
        let details: [String: JSONValue] = [
            "provider_events": .int(events.count), "missing": .int(missing.count), "pages": .int(pages),
            "missing_by_type": .object(byType), "sample_ids": .array(missing.prefix(20).map { .string($0.id) }),
            "plan_file": planFile.map(JSONValue.string) ?? .null,
            "next": planFile.map { .string("opsctl replay --from-file \($0)") } ?? .null,
        ]
        let metrics = [Metric(name: "provider_events", value: Double(events.count), unit: "count"),
                       Metric(name: "missing_events", value: Double(missing.count), unit: "count")]
        let took = DurationText.format(milliseconds: Date().timeIntervalSince(started) * 1000)
        guard !missing.isEmpty else {
            return .ok("the database has all \(events.count) provider events (\(took))", details: details, metrics: metrics)
        }
        let types = byType.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.int ?? 0)" }.joined(separator: ", ")
        let next = planFile.map { "; replay them: opsctl replay --from-file \($0)" } ?? ""
        return .init(.fail, "\(missing.count) of \(events.count) provider events missing from the database (\(types))\(next)",
                     details: details, metrics: metrics)
    }

    func read() throws -> [ProviderEvent] {
        guard let file, let data = ReplaySelection.read(file) else { throw StepError("cannot read file \(file ?? "")") }
        var out: [ProviderEvent] = []
        for (n, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { continue }
            guard let e = Self.event(text) else { throw StepError("\(file):\(n + 1): not a JSON object with a string id") }
            out.append(e)
        }
        return out
    }

    static func event(_ line: String) -> ProviderEvent? {
        guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let id = o["id"] as? String else { return nil }
        return ProviderEvent(id: id, type: (o["type"] as? String) ?? (o["action"] as? String) ?? "?", line: line)
    }

    func fetch(_ context: StepContext) throws -> ([ProviderEvent], Int) {
        let base = try context.resolve(url: url ?? "")
        var events: [ProviderEvent] = []
        var seen = Set<String>()
        var cursor: String?
        var pages = 0
        while pages < maxPages {
            var components = URLComponents(string: base)
            var items = components?.queryItems ?? []
            items.append(URLQueryItem(name: "limit", value: String(pageSize)))
            if let cursor { items.append(URLQueryItem(name: "after", value: cursor)) }
            components?.queryItems = items
            var request = HTTPRequest(method: "GET", url: components?.string ?? base, timeout: 30)
            request.headers = headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value.string ?? $0.value.jsonText) }
            let response = try context.send(request)
            pages += 1
            guard response.status == 200 else {
                throw StepError("provider list \(request.hostForMessages): HTTP \(response.status) on page \(pages): \(String(SecretMasker.shared.mask(response.bodyText).prefix(200)))")
            }
            guard let object = response.json as? [String: Any], let data = object["data"] as? [Any] else {
                throw StepError("provider list \(request.hostForMessages): page \(pages) is not {\"data\": [...]} JSON")
            }
            for item in data {
                guard let dict = item as? [String: Any], JSONSerialization.isValidJSONObject(dict),
                      let line = try? JSONSerialization.data(withJSONObject: dict, options: [.sortedKeys]),
                      let e = Self.event(String(decoding: line, as: UTF8.self)), seen.insert(e.id).inserted else { continue }
                events.append(e)
            }
            let more = (object["has_more"] as? Bool) ?? false
            let next = object["next_cursor"] as? String ?? events.last?.id
            if !more || data.isEmpty || next == cursor { break }
            cursor = next
            context.progress?("provider list: \(events.count) events, \(pages) pages")
        }
        return (events, pages)
    }
}
