import Foundation
import Testing
@testable import Checks

/// The `status` a replay reads from each answer of the service (`processed`, `duplicate`) is found by a
/// byte scan of the answer's top level; it must say what decoding the whole answer would say.
@Suite("Replay service answer")
struct ServiceAnswerTests {
    func status(_ body: String) -> String? {
        ReplayDelivery.serviceStatus(Array(body.utf8))
    }

    /// What decoding the answer as a JSON object says (nil when it is not one or `status` is no string).
    func decoded(_ body: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return nil }
        return object["status"] as? String
    }

    @Test(arguments: [
        #"{"status":"processed","event_id":"evt_1"}"#,
        #"  {"event_id":"evt_1", "status" : "duplicate" }  "#,
        #"{"data":{"status":"nested"},"list":["status",{"status":"x"}],"n":-1.5e3,"ok":true,"z":null}"#,
        #"{"data":{"status":"nested"}}"#,
        #"{"status":42}"#,
        #"{"status":null,"other":"x"}"#,
        #"{"msg":"a \"quoted\" } brace","status":"processed"}"#,
        #"{}"#,
        #"[{"status":"processed"}]"#,
        #"not json"#,
        "",
        #"{"status":"processed""#,
        #"{"status":"processed"} trailing"#,
        #"{"status":"processed",}"#,
        #"{"st\u0061tus":"escaped key"}"#,
        #"{"status":"caf\u00e9"}"#,
        #"{"status":"ünïcødé"}"#,
    ])
    func scanAgreesWithDecoding(_ body: String) {
        #expect(status(body) == decoded(body), "\(body)")
    }

    @Test func theScanNamesWhatItCannotDecide() {
        #expect(TopLevelScan.status(Array(#"{"status":"a\nb"}"#.utf8)) == .undecided)
        #expect(TopLevelScan.status(Array(#"{"status":"processed"}"#.utf8)) == .found("processed"))
        #expect(TopLevelScan.status(Array(#"{"other":{"status":"processed"}}"#.utf8)) == .absent)
    }
}
