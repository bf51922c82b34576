import Foundation
import Testing
import TestSupport
@testable import Checks

/// What a replay selects, how it is keyed (two replays of one selection never run at once), and
/// how a provider export is read — the parts of `webhooks.replay` that need no service.
@Suite("Replay selection")
struct ReplaySelectionTests {
    func selection(_ values: [String: JSONValue]) throws -> ReplaySelection {
        try ReplaySelection(StepParameters(values, stepID: "replay"))
    }

    @Test func theSameSelectionHasTheSameKeyWhateverTheOrderOfItsParameters() throws {
        let a = try selection(["failed": .bool(true), "types": .array([.string("payment_failed")]), "company": .string("biz_1")])
        let b = try selection(["company": .string("biz_1"), "types": .array([.string("payment_failed")]), "failed": .bool(true)])
        #expect(a.json.jsonText == b.json.jsonText)
        let other = try selection(["failed": .bool(true), "types": .array([.string("payment_failed")]), "company": .string("biz_2")])
        #expect(a.json.jsonText != other.json.jsonText)
        let staler = try selection(["failed": .bool(true), "stale": .string("1h"), "types": .array([.string("payment_failed")]),
                                    "company": .string("biz_1")])
        #expect(a.json.jsonText != staler.json.jsonText)
        #expect(a.summary.contains("company biz_1") && a.summary.contains("type payment_failed"))
    }

    @Test func replayingEverythingIsNeverTheDefault() throws {
        #expect(try selection([:]).isEmpty)
        #expect(try selection(["types": .array([])]).isEmpty)
        let error = #expect(throws: StepError.self) { try WebhooksReplay(StepParameters([:], stepID: "replay")) }
        #expect(error?.description.contains("say which events to replay") == true)
        #expect(throws: StepError.self) {
            try WebhooksReplay(StepParameters(["resume": .string("latest"), "join": .string("latest")], stepID: "replay"))
        }
    }

    @Test(arguments: [("50/s", true), ("12.5", true), ("0", true), ("fast", false), ("-3/s", false)])
    func rateIsEventsPerSecond(rate: String, valid: Bool) {
        let make = { try WebhooksReplay(StepParameters(["failed": .bool(true), "rate": .string(rate)], stepID: "replay")) }
        if valid {
            #expect(throws: Never.self) { _ = try make() }
        } else {
            #expect(throws: StepError.self) { _ = try make() }
        }
    }

    @Test func aProviderExportIsReadWithFiltersDuplicatesAndLimit() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("export.jsonl", """
            {"id":"evt_1","type":"payment_failed","data":{"company_id":"biz_1"}}

            {"id":"evt_2","action":"payment_succeeded","data":{"company_id":"biz_1"}}
            {"id":"evt_1","type":"payment_failed","data":{"company_id":"biz_1"}}
            {"event_id":"evt_3","type":"payment_failed","data":{"company_id":"biz_2"}}
            {"id":"evt_4","type":"payment_failed","data":{"company_id":"biz_1"}}
            """)
        let all = try selection(["from_file": .string(path)]).fileEvents()
        #expect(all.map(\.id) == ["evt_1", "evt_2", "evt_3", "evt_4"], "a repeated id is sent once")
        #expect(all[1].type == "payment_succeeded", "`action` stands in for `type`")
        let filtered = try selection(["from_file": .string(path), "types": .array([.string("payment_failed")]),
                                      "company": .string("biz_1"), "limit": .int(1)]).fileEvents()
        #expect(filtered.map(\.id) == ["evt_1"])
    }

    @Test func aBrokenExportLineIsNamedByFileAndLine() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("broken.jsonl", "{\"id\":\"evt_1\"}\nnot json at all\n")
        let error = #expect(throws: StepError.self) { try selection(["from_file": .string(path)]).fileEvents() }
        #expect(error?.description.contains("broken.jsonl:2") == true, "\(String(describing: error))")
        #expect(throws: StepError.self) { try selection(["from_file": .string(dir.path + "/missing.jsonl")]).fileEvents() }
    }

    @Test func idsFileSkipsBlankLinesAndComments() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("ids.txt", "# lost during the outage\nevt_1\n\n  evt_2  \n")
        #expect(try selection(["ids_file": .string(path)]).ids() == ["evt_1", "evt_2"])
    }
}
