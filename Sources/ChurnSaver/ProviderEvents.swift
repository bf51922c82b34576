import Foundation
import Hummingbird

/// The fake provider's list API, `GET /api/provider/events?after=<id>&limit=<n>`: pages through the
/// events in PROVIDER_EVENTS_FILE (JSON lines, one event object with an `id` each), in file order.
/// The file is re-read when it changes, so a test or demo can write it while the service runs.
final class ProviderEvents: @unchecked Sendable {
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    private let path: String?
    private let lock = NSLock()
    private var loaded: (stamp: String, ids: [String], lines: [String])?

    init(path: String?) { self.path = path }

    func respond(_ request: Request) -> Response {
        let parameters = request.uri.queryParameters
        let limitText = parameters.get("limit") ?? "100"
        guard let limit = Int(limitText), (1...1000).contains(limit) else {
            return JSONResponse.error("limit must be an integer in 1...1000", status: .badRequest)
        }
        let after = parameters.get("after").flatMap { $0.isEmpty ? nil : $0 }
        guard let path else {
            return JSONResponse.make(["object": "list", "data": [Any](), "has_more": false, "next_cursor": NSNull(),
                                      "source": "none (set PROVIDER_EVENTS_FILE)"])
        }
        do {
            let (ids, lines) = try load(path)
            var start = 0
            if let after {
                guard let index = ids.firstIndex(of: after) else {
                    return JSONResponse.error("unknown cursor", status: .badRequest, extra: ["after": after])
                }
                start = index + 1
            }
            let end = min(ids.count, start + limit)
            let hasMore = end < ids.count
            let next = end > start ? ids[end - 1] : nil
            var text = "{\"object\":\"list\",\"data\":[" + lines[start..<end].joined(separator: ",") + "]"
            text += ",\"has_more\":\(hasMore),\"next_cursor\":" + (next.map(Self.quoted) ?? "null") + "}"
            return JSONResponse.raw(Data(text.utf8))
        } catch {
            return JSONResponse.error("provider events unavailable", status: .internalServerError, extra: ["detail": "\(error)"])
        }
    }

    private func load(_ path: String) throws -> ([String], [String]) {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let stamp = "\(attributes[.modificationDate] ?? "")/\(attributes[.size] ?? "")"
        if let loaded = lock.withLock({ loaded }), loaded.stamp == stamp { return (loaded.ids, loaded.lines) }
        let content = try String(contentsOfFile: path, encoding: .utf8)
        var ids: [String] = [], lines: [String] = []
        for (number, line) in content.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any],
                  let id = object["id"] as? String else {
                throw Invalid(description: "\(path):\(number + 1): not a JSON object with a string id")
            }
            ids.append(id)
            lines.append(trimmed)
        }
        lock.withLock { loaded = (stamp, ids, lines) }
        return (ids, lines)
    }

    private static func quoted(_ s: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [s])) ?? Data("[\"\"]".utf8)
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }
}
