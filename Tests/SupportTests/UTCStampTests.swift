import Foundation
import Support
import Testing

/// The time part of run and replay ids: the same text the DateFormatter it replaces wrote.
@Suite("UTCStamp")
struct UTCStampTests {
    @Test(arguments: [0.0, 59.999, 951_782_400, 1_764_500_000.5, 4_102_444_799])
    func matchesTheFormatterItReplaces(_ seconds: Double) {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        f.locale = Locale(identifier: "en_US_POSIX")
        let date = Date(timeIntervalSince1970: seconds)
        #expect(UTCStamp.compact(date) == f.string(from: date))
    }

    @Test func padsEveryField() {
        #expect(UTCStamp.compact(Date(timeIntervalSince1970: 0)) == "19700101-000000")
        #expect(UTCStamp.compact(Date(timeIntervalSince1970: 951_782_400)) == "20000229-000000")
    }
}
