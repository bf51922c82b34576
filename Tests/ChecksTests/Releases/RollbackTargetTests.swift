import Foundation
import Testing
@testable import Checks

/// Which release `rollback --mode full` goes back to, for histories the integration test does not script.
@Suite("Rollback target: the last good release")
struct RollbackTargetTests {
    /// Newest first, as `ReleaseStore.list` returns them: "id:verify" or "id:verify:rollback".
    static func history(_ rows: [String]) -> [ReleaseEntry] {
        rows.enumerated().map { i, row in
            let parts = row.split(separator: ":").map(String.init)
            return ReleaseEntry(id: rows.count - i, environment: "production", release: parts[0],
                                action: parts.count > 2 ? "rollback" : "deploy", schemaVersion: 10 + rows.count - i,
                                verify: parts[1], verifyRunID: nil, recordedAt: Date(timeIntervalSince1970: Double(1_000 * (rows.count - i))),
                                recordedBy: "ops@host", runID: nil)
        }
    }

    @Test(arguments: [
        (["r3:fail", "r2:fail", "r1:ok"], "r1"),                 // failed releases are skipped
        (["r3:fail", "r2:warn", "r1:ok"], "r2"),                 // warnings only: verify passed
        (["r3:fail", "r2:unknown", "r1:ok"], "r1"),              // never verified: not known good
        (["r3:fail", "r3:ok", "r2:ok"], "r2"),                   // an earlier row of the current release is no rollback
        (["r1:unknown:rollback", "r2:fail", "r1:ok"], nil),      // back on r1 already: nothing earlier passed but r1
        (["r4:fail", "r1:unknown:rollback", "r2:fail", "r1:ok"], "r1"),  // a new bad deploy after a rollback: r1 again
        (["r1:ok"], nil),                                        // the only release
    ] as [([String], String?)])
    func lastGood(rows: [String], expected: String?) throws {
        let choice = try? RollbackTarget.choose(Self.history(rows), release: nil, environment: "production")
        #expect(choice?.target.release == expected)
        if let choice {
            #expect(choice.reason.contains("is the last release before \(rows[0].split(separator: ":")[0]) whose verify passed"))
            #expect(choice.target.verifyPassed)
        }
    }

    @Test func noHistoryNamesTheCommandToRun() {
        #expect(throws: StepError.self) { try RollbackTarget.choose([], release: nil, environment: "production") }
        do { _ = try RollbackTarget.choose([], release: nil, environment: "production") } catch let error as StepError {
            #expect(error.message.contains("opsctl deploy record --release ID --env production"))
        } catch { Issue.record("\(error)") }
    }

    @Test func anExplicitReleaseMustBeAnEarlierOne() throws {
        let history = Self.history(["r3:fail", "r2:fail", "r1:ok"])
        #expect(try RollbackTarget.choose(history, release: "r2", environment: "production").target.release == "r2")
        #expect(throws: StepError.self) { try RollbackTarget.choose(history, release: "r3", environment: "production") }
        #expect(throws: StepError.self) { try RollbackTarget.choose(history, release: "r9", environment: "production") }
    }
}
