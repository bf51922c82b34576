import Foundation
import Support
import Testing
import TestSupport

/// Issue 16 item 6: `deploy record`, `releases`, `rollback --status` and `rollback --mode full` without a
/// target, on a scripted two-release history against the real reference service and sandbox database.
@Suite("releases and rollback to the last good release", .enabled(if: TestDatabase.available), .serialized)
final class ReleaseRollbackTests {
    let service: RunningService
    let directory = TemporaryDirectory()
    let versionServer: StaticHTTPServer
    var migrations: String { directory.path + "/migrations" }
    var rolledBack: String { directory.path + "/rolled-back.txt" }

    init() throws {
        service = try RunningService(label: "releases")
        versionServer = try StaticHTTPServer(files: ["version": #"{"build":{"version":"r9"}}"#])
        try FileManager.default.copyItem(atPath: RunningService.repositoryRoot.appendingPathComponent("examples/churn-saver/migrations").path,
                                         toPath: migrations)
        // The deploy platform's rollback is a real shell command writing the release it was given to a file.
        let environment = """
                base_url: \(service.baseURL)
                webhook: { scheme: whop, secret_env: WHOP_WEBHOOK_SECRET }
                migrations: { dir: \(migrations) }
                secrets: [WHOP_API_KEY]
                service:
                  profile: churn-saver
                  release:
                    version_endpoint: \(versionServer.url("version"))
                    json: .build.version
                    rollback_command: "echo rolled back to {release} >> \(rolledBack)"
            """
        _ = try directory.write("opsctl.yaml", "default_environment: local\nenvironments:\n  local:\n\(environment)\n  staging:\n\(environment)\n")
        // The service's schema was created by psql: adopt it into opsctl's history.
        let adopt = try opsctl(["migrate", "baseline", "--version", "7", "--no-journal"])
        guard adopt.exitCode == 0 else { throw RunningService.Failure(description: "baseline failed: \(adopt.stdout)\(adopt.stderr)") }
    }

    deinit { service.stop() }

    var environment: [String: String] {
        ["DATABASE_URL": service.databaseURL, "WHOP_WEBHOOK_SECRET": service.secret,
         "WHOP_API_KEY": "wk-live-7f3a9b2c1d4e5f60", "XDG_STATE_HOME": directory.path + "/state"]
    }

    func opsctl(_ args: [String]) throws -> ProcessOutput {
        try Opsctl.run(args, env: environment, directory: directory.path, timeout: 180)
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    func releases(_ env: String = "local") throws -> [[String: Any]] {
        let out = try opsctl(["releases", "--env", env, "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        return try json(out.stdout)["releases"] as? [[String: Any]] ?? []
    }

    @Test func fullRollbackWithoutATargetGoesBackToTheLastGoodRelease() throws {
        // r1: verify passes, then the deploy is recorded (the outcome comes from the journal's verify run).
        let verify = try opsctl(["verify"])
        #expect(verify.exitCode == 0, "\(verify.stdout)\(verify.stderr)")
        let r1 = try opsctl(["deploy", "record", "--release", "r1"])
        #expect(r1.exitCode == 0, "\(r1.stdout)\(r1.stderr)")
        #expect(r1.stdout.contains("release r1 in local: schema 7, verify ok"), "\(r1.stdout)")

        // r2 brings migration 8 and its verify fails (the service lost its database).
        _ = try directory.write("migrations/008_release_notes.sql", "CREATE TABLE release_notes (id bigint PRIMARY KEY, body text);\n")
        _ = try directory.write("migrations/008_release_notes.down.sql", "DROP TABLE release_notes;\n")
        let apply = try opsctl(["migrate", "apply", "--confirm", "yes"])
        #expect(apply.exitCode == 0, "\(apply.stdout)\(apply.stderr)")
        _ = try service.request("POST", "/admin/faults", body: Array(#"{"db_down":true}"#.utf8))
        let r2 = try opsctl(["deploy", "record", "--release", "r2", "--verify"])
        _ = try service.request("DELETE", "/admin/faults")
        #expect(r2.exitCode == 0, "recording a failed deploy is itself a success: \(r2.stdout)\(r2.stderr)")
        #expect(r2.stdout.contains("release r2 in local: schema 8, verify fail"), "\(r2.stdout)")

        let history = try releases()
        #expect(history.map { $0["release"] as? String } == ["r2", "r1"])
        #expect(history.map { $0["schema_version"] as? Int } == [8, 7])
        #expect(history.map { $0["verify"] as? String } == ["fail", "ok"])
        #expect(history.map { $0["current"] as? Bool } == [true, false])
        #expect(history.map { $0["last_good"] as? Bool } == [false, true])
        let table = try opsctl(["releases"])
        #expect(table.stdout.contains("RELEASE"), "\(table.stdout)")
        #expect(table.stdout.split(separator: "\n").dropFirst().first?.hasPrefix("*  r2") == true, "\(table.stdout)")

        // One screen before deciding: current r2 at schema 8 (the database's), last good r1, health.
        let status = try opsctl(["rollback", "--status", "--format", "json"])
        #expect(status.exitCode == 0, "\(status.stdout)\(status.stderr)")
        let steps = try json(status.stdout)["results"] as? [[String: Any]] ?? []
        let release = try #require(steps.first { $0["id"] as? String == "release" }, "\(status.stdout)")
        let message = release["message"] as? String ?? ""
        #expect(message.contains("current r2") && message.contains("database at schema 8") && message.contains("last good r1"), "\(message)")
        #expect(steps.contains { ($0["id"] as? String)?.hasPrefix("health") == true && $0["status"] as? String == "ok" }, "\(status.stdout)")
        let human = try opsctl(["rollback", "--status"])
        #expect(human.stdout.contains("last good r1"), "\(human.stdout)")

        // The dry run names the target and why, plans the migration down, and runs nothing.
        let dry = try opsctl(["rollback", "--mode", "full", "--dry-run"])
        #expect(dry.exitCode == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stderr.contains("rolling back local to r1"), "\(dry.stderr)")
        #expect(dry.stdout.contains("last release before r2 whose verify passed"), "\(dry.stdout)")
        #expect(dry.stdout.contains("would roll back 1 migration(s): 8"), "\(dry.stdout)")
        #expect(dry.stdout.contains("would record release r1 in local: schema 7"), "\(dry.stdout)")
        #expect(!FileManager.default.fileExists(atPath: rolledBack))
        let plan = try opsctl(["rollback", "--mode", "full", "--dry-run", "--format", "json"])
        let app = try #require((try json(plan.stdout)["results"] as? [[String: Any]])?.first { $0["id"] as? String == "app" })
        let planned = (app["details"] as? [String: Any])?["plan"] as? String ?? ""
        #expect(planned.contains("echo rolled back to \"${OPSCTL_RELEASE}\""), "the release reaches the shell as a variable: \(planned)")
        #expect(planned.contains("OPSCTL_RELEASE=r1"), "\(planned)")

        // Without the typed confirmation (no terminal) nothing is rolled back: aborted, exit 2.
        let refused = try opsctl(["rollback", "--mode", "full", "--no-watch"])
        #expect(refused.exitCode == 2, "\(refused.stdout)\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: rolledBack))
        #expect(try releases().first?["release"] as? String == "r2")

        // The real run: the templated command with r1, the schema down to 7, recorded, verify watched.
        let done = try opsctl(["rollback", "--mode", "full", "--confirm", "yes", "--watch", "2s", "--every", "1s"])
        #expect(done.exitCode == 0, "\(done.stdout)\(done.stderr)")
        #expect(try String(contentsOfFile: rolledBack, encoding: .utf8) == "rolled back to r1\n")
        #expect(done.stdout.contains("database at version 7"), "\(done.stdout)")
        #expect(done.stderr.contains("watching verify for 2s"), "\(done.stderr)")
        #expect(try service.count("SELECT count(*) FROM opsctl.schema_migrations WHERE version = 8") == 0)
        #expect(try service.count("SELECT count(*) FROM to_regclass('release_notes') t WHERE t IS NOT NULL") == 0)
        let after = try releases()
        #expect(after.first?["release"] as? String == "r1")
        #expect(after.first?["action"] as? String == "rollback")
        #expect(after.first?["schema_version"] as? Int == 7)
    }

    @Test func noGoodReleaseIsAClearErrorInTheDryRunAndTheRealRun() throws {
        for args in [["--dry-run"], ["--confirm", "yes"]] {
            let out = try opsctl(["rollback", "--mode", "full", "--env", "staging"] + args)
            #expect(out.exitCode == 1, "\(out.stdout)\(out.stderr)")
            #expect(out.stderr.contains("no release is recorded for 'staging'"), "\(out.stderr)")
            #expect(out.stderr.contains("opsctl deploy record"), "\(out.stderr)")
        }
        // The release id from the profile's version endpoint; with nothing earlier there is still no target.
        let record = try opsctl(["deploy", "record", "--env", "staging"])
        #expect(record.exitCode == 0, "\(record.stdout)\(record.stderr)")
        #expect(record.stdout.contains("release r9 in staging"), "\(record.stdout)")
        #expect(try releases("staging").map { $0["verify"] as? String } == ["unknown"])
        let only = try opsctl(["rollback", "--mode", "full", "--env", "staging", "--dry-run"])
        #expect(only.exitCode == 1)
        #expect(only.stderr.contains("it is the only release recorded"), "\(only.stderr)")
        #expect(!FileManager.default.fileExists(atPath: rolledBack))
        let status = try opsctl(["rollback", "--status", "--env", "staging"])
        #expect(status.stdout.contains("no earlier release passed verify"), "\(status.stdout)")
    }

    @Test func releaseSettingsAreCheckedWhereTheyAreWritten() throws {
        let bad = TemporaryDirectory()
        _ = try bad.write("opsctl.yaml", "environments:\n  local:\n    service:\n      release:\n        rollback_cmd: vercel rollback\n")
        let out = try Opsctl.run(["releases"], env: environment, directory: bad.path, timeout: 60)
        #expect(out.exitCode == 65, "\(out.stdout)\(out.stderr)")
        #expect(out.stderr.contains("opsctl.yaml:5:9"), "\(out.stderr)")
        #expect(out.stderr.contains("did you mean 'rollback_command'?"), "\(out.stderr)")
        // No --release and no version endpoint declared: a usage error before anything runs.
        let plain = TemporaryDirectory()
        _ = try plain.write("opsctl.yaml", "environments:\n  local:\n    base_url: \(service.baseURL)\n")
        let missing = try Opsctl.run(["deploy", "record"], env: environment, directory: plain.path, timeout: 60)
        #expect(missing.exitCode == 64, "\(missing.stdout)\(missing.stderr)")
        #expect(missing.stderr.contains("pass --release ID, or declare service.release.version_endpoint"), "\(missing.stderr)")
    }
}
