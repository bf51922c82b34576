import Checks
import Foundation
import Testing

/// The keep policy alone, on dates: which backups survive `backup prune`.
@Suite struct BackupPruneTests {
    static let utc: Calendar = {
        var c = Calendar(identifier: .iso8601)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    /// Newest first, like BackupStore.entries(): one backup a day at 02:00 from 2026-11-29 back.
    static func daily(_ count: Int, perDay: Int = 1) -> [Date] {
        let start = utc.date(from: DateComponents(year: 2026, month: 11, day: 29, hour: 2))!
        return (0..<count).flatMap { day in
            (0..<perDay).map { n in utc.date(byAdding: .minute, value: -(day * 1440 + n * 10), to: start)! }
        }
    }

    @Test func keepsTheNewestOfEachOfTheLastDaysWeeksAndMonths() {
        let dates = Self.daily(100)
        let kept = BackupPrune.kept(dates, policy: .init(daily: 7, weekly: 4, monthly: 3)).sorted()
        // Days 0-6; the newest of the 4 most recent ISO weeks (Sunday 29th is in the week of the 23rd);
        // the newest of November, October, September.
        let keptDays = kept.map { dates[$0] }.map { Self.utc.dateComponents([.month, .day], from: $0) }.map { "\($0.month!)-\($0.day!)" }
        #expect(Set(keptDays) == ["11-29", "11-28", "11-27", "11-26", "11-25", "11-24", "11-23", "11-22", "11-15", "11-8",
                                  "10-31", "9-30"], "\(keptDays)")
    }

    @Test func severalBackupsADayKeepOnlyTheNewestOfThatDay() {
        let dates = Self.daily(3, perDay: 4)
        let kept = BackupPrune.kept(dates, policy: .init(daily: 3, weekly: 0, monthly: 0))
        #expect(kept == [0, 4, 8])
    }

    @Test func theNewestIsKeptEvenWithAnEmptyPolicy() {
        #expect(BackupPrune.kept(Self.daily(5), policy: .init(daily: 0, weekly: 0, monthly: 0)) == [0])
        #expect(BackupPrune.kept([], policy: .init()).isEmpty)
    }
}
