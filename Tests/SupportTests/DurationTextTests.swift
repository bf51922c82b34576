import Support
import Testing

@Suite("DurationText")
struct DurationTextTests {
    @Test("parses durations", arguments: [
        ("500ms", 0.5), ("5s", 5), ("2m", 120), ("1h", 3600), ("1d", 86400),
        ("1m30s", 90), ("1h2m3s", 3723), ("1.5s", 1.5), ("0.25h", 900), ("90", 90),
        ("2.5", 2.5), ("0", 0), ("  10s ", 10), ("10S", 10), ("3 ", 3),
        ("5sec", 5), ("2min", 120), ("2mins", 120), ("3hrs", 10800), ("2days", 172_800), ("250ms1s", 1.25),
    ])
    func parses(text: String, seconds: Double) {
        #expect(DurationText.seconds(text) == seconds)
    }

    @Test("rejects what is not a duration", arguments: [
        "", "   ", "abc", "5x", "s", "ms", "-5", "-5s", "1.2.3s", "5m5", "1 m", "inf", "infinity", "nan",
        "1e400", "0x10", "5s-", "--1",
    ])
    func rejects(text: String) {
        #expect(DurationText.seconds(text) == nil)
    }

    @Test("formats milliseconds for reports", arguments: [
        (0.5, "0.50ms"), (0, "0.00ms"), (1, "1ms"), (12.4, "12ms"), (850, "850ms"), (999.4, "999ms"),
        (999.6, "1.0s"), (1000, "1.0s"), (1234, "1.2s"), (59_940, "59.9s"), (59_960, "1m00s"),
        (60_000, "1m00s"), (185_000, "3m05s"), (3_599_000, "59m59s"), (7_200_000, "120m00s"),
    ])
    func formats(ms: Double, text: String) {
        #expect(DurationText.format(milliseconds: ms) == text)
    }

    @Test("odd inputs format without crashing", arguments: [Double.infinity, -Double.infinity, Double.nan, -5])
    func formatsOddValues(ms: Double) {
        #expect(!DurationText.format(milliseconds: ms).isEmpty)
    }
}

/// Issue 12 item 7: durations are bounded and say why they are refused.
@Suite("DurationText bounds")
struct DurationBoundTests {
    @Test(arguments: ["9999999999999999999999h", "367d", "99999999999999999999", "1e19", "100000h"])
    func longerThanAYearIsRefused(text: String) {
        #expect(DurationText.seconds(text) == nil)
        #expect(DurationText.problem(text) != nil)
    }

    @Test func theMaximumIsAccepted() {
        #expect(DurationText.seconds("366d") == DurationText.maximumSeconds)
        #expect(DurationText.problem("366d") == nil)
    }

    @Test func problemsSayWhatIsWrong() {
        #expect(DurationText.problem("-1s")?.contains("negative") == true)
        #expect(DurationText.problem("400d")?.contains("366 days") == true)
        #expect(DurationText.problem("soon")?.contains("like 500ms") == true)
    }

    @Test func hugeMillisecondsFormatWithoutTrapping() {
        #expect(DurationText.format(milliseconds: 1e300).hasSuffix("d"))
        #expect(!DurationText.format(milliseconds: 9.3e21).isEmpty)
    }
}
