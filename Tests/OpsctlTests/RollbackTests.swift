import Foundation
import Testing
import TestSupport

/// `opsctl migrate`-style apply through the shipped runbook, then `opsctl rollback`, end to end.
@Suite("opsctl rollback", .enabled(if: TestDatabase.available), .serialized)
struct RollbackTests {
    static let migrations = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../examples/churn-saver/migrations").standardized.path

    @Test func rollsBackToAVersionOnlyWhenConfirmed() throws {
        let p = Project(databaseURL: try TestDatabase.fresh("rollback"))
        let apply = try p.opsctl(["run", "migrate", "--param", "dir=\(Self.migrations)", "--no-journal"])
        #expect(apply.exitCode == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(apply.stdout.contains("database at version 7"))

        let dry = try p.opsctl(["rollback", "--to", "5", "--dir", Self.migrations, "--dry-run", "--no-journal"])
        #expect(dry.exitCode == 0)
        #expect(dry.stdout.contains("would roll back 2 migration(s): 7, 6"), "\(dry.stdout)")

        let refused = try p.opsctl(["rollback", "--to", "5", "--dir", Self.migrations, "--no-journal"])
        #expect(refused.exitCode == 2, "no terminal and no --confirm: aborted")
        #expect(refused.stdout.contains("pass --confirm yes"))

        let done = try p.opsctl(["rollback", "--to", "5", "--dir", Self.migrations, "--confirm", "yes", "--no-journal"])
        #expect(done.exitCode == 0, "\(done.stdout)")
        #expect(done.stdout.contains("database at version 5"))
        #expect(done.stdout.contains("schema at version 5"))

        let status = try p.opsctl(["rollback", "--mode", "status", "--dir", Self.migrations, "--no-journal"])
        #expect(status.stdout.contains("at version 5: 5 applied, 2 pending"), "\(status.stdout)")
    }

    @Test func usageErrorsAreCaughtBeforeAnythingRuns() throws {
        let p = Project()
        // Without a target, full goes back to the last good release: the history needs the database.
        let full = try p.opsctl(["rollback", "--mode", "full"])
        #expect(full.exitCode == 1)
        #expect(full.stderr.contains("cannot read the release history"), "\(full.stderr)")
        #expect(try p.opsctl(["rollback", "--mode", "full", "--to", "3", "--steps", "1"]).exitCode == 64)
        #expect(try p.opsctl(["rollback", "--mode", "restore"]).exitCode == 64)
        #expect(try p.opsctl(["rollback", "--mode", "sideways"]).exitCode == 64)
        let app = try p.opsctl(["rollback", "--mode", "app"])
        #expect(app.exitCode == 64)
        #expect(app.stderr.contains("rollback_command"))
    }
}
