import Foundation
import Testing
import TestSupport

/// The fake provider list API pages through PROVIDER_EVENTS_FILE with an `after` cursor.
@Suite(.enabled(if: TestDatabase.available))
struct ProviderEventsTests {
    @Test func pagesThroughTheFile() throws {
        let dir = TemporaryDirectory()
        let lines = (1...5).map { #"{"id":"evt_p\#($0)","type":"payment_failed","data":{"membership_id":"mem_p\#($0)"}}"# }
        let file = try dir.write("provider.jsonl", lines.joined(separator: "\n") + "\n")
        let s = try RunningService(label: "provider", environment: ["PROVIDER_EVENTS_FILE": file])
        defer { s.stop() }

        var ids: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = s.json(try s.request("GET", "/api/provider/events?limit=2" + (cursor.map { "&after=" + $0 } ?? "")))
            let data = try #require(page["data"] as? [[String: Any]])
            ids += data.compactMap { $0["id"] as? String }
            cursor = (page["has_more"] as? Bool == true) ? page["next_cursor"] as? String : nil
            pages += 1
        } while cursor != nil && pages < 10
        #expect(ids == (1...5).map { "evt_p\($0)" })
        #expect(pages == 3)

        #expect(try s.request("GET", "/api/provider/events?after=evt_unknown").status == 400)
        #expect(try s.request("GET", "/api/provider/events?limit=0").status == 400)
        // The file is re-read when it changes.
        _ = try dir.write("provider.jsonl", lines.joined(separator: "\n") + "\n" + #"{"id":"evt_p6","type":"x"}"# + "\n")
        let tail = s.json(try s.request("GET", "/api/provider/events?after=evt_p5"))
        #expect(((tail["data"] as? [[String: Any]])?.first?["id"] as? String) == "evt_p6")
    }
}
