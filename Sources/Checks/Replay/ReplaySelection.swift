import Foundation
import Postgres
import Support

/// Which events a replay sends: a filter over the service's event store (`service.events`), a file of event ids,
/// or a JSON-lines export from the provider (one event object with an `id` a line).
struct ReplaySelection: Sendable {
    var failed: Bool
    var staleSeconds: Double
    var since: String?
    var until: String?
    var types: [String]
    var company: String?
    var idsFile: String?
    var fromFile: String?
    var limit: Int?

    init(_ p: StepParameters) throws {
        failed = try p.bool("failed", default: false)
        staleSeconds = try p.duration("stale", default: 900)
        since = try p.nonEmptyString("since")
        until = try p.nonEmptyString("until")
        types = try p.stringList("types").filter { !$0.isEmpty }
        company = try p.nonEmptyString("company")
        idsFile = try p.nonEmptyString("ids_file")
        fromFile = try p.nonEmptyString("from_file")
        let l = try p.int("limit", default: 0)
        limit = l > 0 ? l : nil
    }

    /// True when nothing says which events to send (replaying every event is never the default).
    var isEmpty: Bool {
        !failed && since == nil && until == nil && types.isEmpty && company == nil && idsFile == nil && fromFile == nil
    }

    var json: JSONValue {
        var o: [String: JSONValue] = ["failed": .bool(failed), "stale_seconds": .double(staleSeconds)]
        if let since { o["since"] = .string(since) }
        if let until { o["until"] = .string(until) }
        if !types.isEmpty { o["types"] = .array(types.map(JSONValue.string)) }
        if let company { o["company"] = .string(company) }
        if let idsFile { o["ids_file"] = .string(idsFile) }
        if let fromFile { o["from_file"] = .string(fromFile) }
        if let limit { o["limit"] = .int(limit) }
        return .object(o)
    }

    var summary: String {
        var parts: [String] = []
        if let fromFile { parts.append("events in \(fromFile)") }
        if failed { parts.append("failed (error, or unprocessed for more than \(DurationText.format(milliseconds: staleSeconds * 1000)))") }
        if let idsFile { parts.append("ids in \(idsFile)") }
        if let since { parts.append("since \(since)") }
        if let until { parts.append("until \(until)") }
        if !types.isEmpty { parts.append("type \(types.joined(separator: "|"))") }
        if let company { parts.append("company \(company)") }
        if let limit { parts.append("first \(limit)") }
        return parts.joined(separator: ", ")
    }

    /// `2h` means two hours ago; anything else is handed to Postgres as a timestamp.
    static func timestamp(_ text: String?) -> String? {
        guard let text else { return nil }
        if let seconds = DurationText.seconds(text) { return Date().addingTimeInterval(-seconds).postgresText }
        return text
    }

    /// A file's bytes (works for pipes and /dev/null too, unlike FileManager.contents).
    static func read(_ path: String) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return try? handle.readToEnd() ?? Data()
    }

    func ids() throws -> [String] {
        guard let idsFile else { return [] }
        guard let data = Self.read(idsFile), let text = String(data: data, encoding: .utf8) else {
            throw StepError("cannot read ids_file \(idsFile)")
        }
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// The WHERE clause over the service's event store (unqualified columns) and its parameters
    /// (numbered from `first`). Column names come from the mapping, quoted; values are bound.
    func filter(_ store: EventStore, first: Int = 1) throws -> (sql: String, params: [any PostgresBindable]) {
        let n = (first...).prefix(7).map { "$\($0)" }
        if company != nil && store.tenant == nil {
            throw StepError("company: service.events declares no tenant column to filter on (add events.tenant in opsctl.yaml)")
        }
        let tenant = store.tenantSQL() ?? "NULL::text"
        let sql = """
            (\(n[0])::bool IS NOT TRUE OR \(store.failedSQL())
               OR (\(store.pendingSQL()) AND \(store.receivedAtSQL()) < now() - make_interval(secs => \(n[1])::float8)))
            AND (\(n[2])::timestamptz IS NULL OR \(store.occurredAtSQL()) >= \(n[2])::timestamptz)
            AND (\(n[3])::timestamptz IS NULL OR \(store.occurredAtSQL()) < \(n[3])::timestamptz)
            AND (cardinality(\(n[4])::text[]) = 0 OR \(store.typeSQL()) = ANY(\(n[4])::text[]))
            AND (\(n[5])::text IS NULL OR \(tenant) = \(n[5])::text)
            AND (\(n[6])::text[] IS NULL OR \(store.providerIDSQL())::text = ANY(\(n[6])::text[]))
            """
        let ids: [String]? = idsFile == nil ? nil : try self.ids()
        return (sql, [failed, staleSeconds, Self.timestamp(since), Self.timestamp(until), types, company, ids])
    }

    /// Events from a provider export: each line a JSON object with `id` (and `type` or `action`).
    func fileEvents() throws -> [ReplayEvent] {
        guard let fromFile else { return [] }
        guard let data = Self.read(fromFile) else { throw StepError("cannot read from_file \(fromFile)") }
        var events: [ReplayEvent] = []
        var seen = Set<String>()
        for (number, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let trimmed = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any],
                  let id = (object["id"] as? String) ?? (object["event_id"] as? String) else {
                throw StepError("\(fromFile):\(number + 1): not a JSON object with a string id")
            }
            let type = (object["type"] as? String) ?? (object["action"] as? String)
            if !types.isEmpty, !types.contains(type ?? "") { continue }
            if let company, (object["data"] as? [String: Any])?["company_id"] as? String != company { continue }
            guard seen.insert(id).inserted else { continue }
            events.append(ReplayEvent(id: id, type: type, payload: trimmed))
            if let limit, events.count >= limit { break }
        }
        return events
    }
}
