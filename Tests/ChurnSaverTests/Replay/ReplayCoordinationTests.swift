import Foundation
import Postgres
import Testing
import TestSupport
import Webhooks

/// Who may replay what at the same time, resuming through the journal, and the other signing schemes.
@Suite("Replay coordination", .enabled(if: TestDatabase.available), .serialized)
struct ReplayCoordinationTests {
    @Test(arguments: [WebhookScheme.standard, .stripe])
    func eventsAreReSignedInTheEnvironmentsScheme(_ scheme: WebhookScheme) throws {
        let f = try ReplayFixture(label: "replay_\(scheme.rawValue)", scheme: scheme)
        try f.seedFailed(40)
        let out = try f.opsctl(["replay", "--failed", "--verify", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let details = ReplayFixture.results(out)["replay"]?["details"] as? [String: Any]
        #expect(details?["delivered"] as? Int == 40)
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == 40)
        #expect(try f.count("SELECT count(*) FROM recovery_cases") == 40)
        #expect(!out.stdout.contains(f.service.secret) && !out.stderr.contains(f.service.secret))
    }

    @Test func aSecondReplayOfTheSameSelectionIsRefusedAndPointedAtTheFirst() throws {
        let total = 800
        let f = try ReplayFixture(label: "replay_same_selection")
        try f.seedFailed(total)
        let first = try f.spawn(["replay", "--failed", "--rate", "200/s", "--worker", "w1"])
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        #expect(eventually(timeout: 30) {
            (try? f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'")) ?? 0 > 20
        })
        let replayID = try #require(try f.service.value("SELECT replay_id FROM opsctl.replays").string)

        let second = try f.opsctl(["replay", "--failed", "--format", "json"])
        #expect(second.exitCode == 1, "\(second.stdout)\(second.stderr)")
        let refusal = message(ReplayFixture.results(second), "replay")
        #expect(refusal.contains(replayID) && refusal.contains("--join \(replayID)"), "\(refusal)")
        #expect(try f.count("SELECT count(*) FROM opsctl.replays") == 1, "the refused run created no replay")

        // A different selection is not held up by it.
        let other = try f.opsctl(["replay", "--type", "membership_went_valid", "--format", "json"])
        #expect(other.exitCode == 0, "\(other.stdout)\(other.stderr)")

        // Joining as the refusal says finishes the work together; both workers are journaled runs.
        let joined = try f.opsctl(["replay", "--join", replayID, "--worker", "w2", "--format", "json"])
        #expect(joined.exitCode == 0, "\(joined.stdout)\(joined.stderr)")
        first.waitUntilExit()
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE replay_id = '\(replayID)' AND status = 'delivered'") == total)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE claimed_by = 'w2'") > 0)
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == total)
        #expect(try f.count("SELECT count(*) FROM opsctl.runs WHERE runbook = 'replay'") == 4)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_runs WHERE replay_id = '\(replayID)'") == 2)
    }

    /// Each worker claims its next blocks ahead while it sends (ReplayClaimer): workers joining at once
    /// still split the replay, and no event is sent by two of them — the events delivered by the three
    /// add up to the replay exactly (a healthy service: no retries), and none was answered `duplicate`.
    @Test func workersJoiningAtOnceSplitTheReplayAndSendEachEventOnce() throws {
        let total = 3_000
        let f = try ReplayFixture(label: "replay_join_split")
        try f.seedFailed(total)
        let report = f.dir.path + "/w1.json"
        let first = try f.spawn(["replay", "--failed", "--rate", "1000/s", "--concurrency", "8", "--worker", "w1",
                                 "--format", "json", "--output", report])
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        #expect(eventually(timeout: 60) {
            (try? f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'")) ?? 0 >= 100
        })
        // Two more workers at once, each reporting what it delivered.
        let reports = (2...3).map { f.dir.path + "/w\($0).json" }
        let joiners = try reports.enumerated().map { i, path in
            try f.spawn(["replay", "--join", "latest", "--worker", "w\(i + 2)", "--rate", "1000/s", "--concurrency", "8",
                         "--format", "json", "--output", path])
        }
        defer { for p in joiners where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        var delivered: [Int] = []
        for (worker, path) in zip([first] + joiners, [report] + reports) {
            worker.waitUntilExit()
            #expect(worker.terminationStatus == 0, "\(path): \((try? String(contentsOfFile: path, encoding: .utf8)) ?? "no report")")
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
            let step = (json?["results"] as? [[String: Any]])?.first { $0["id"] as? String == "replay" }
            delivered.append((step?["details"] as? [String: Any])?["delivered"] as? Int ?? -1)
        }
        #expect(delivered.reduce(0, +) == total, "delivered by w1, w2, w3: \(delivered)")
        #expect(delivered.allSatisfy { $0 > 0 }, "every worker took a share: \(delivered)")
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE service_status = 'duplicate'") == 0)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'") == total)
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == total)
    }

    @Test func resumingAKilledReplayRunContinuesItsReplay() throws {
        let total = 1_200
        let f = try ReplayFixture(label: "replay_run_resume")
        try f.seedFailed(total)
        let worker = try f.spawn(["run", "replay", "--param", "failed=true", "--param", "rate=300/s"])
        #expect(eventually(timeout: 60) {
            (try? f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'")) ?? 0 >= 150
        })
        kill(worker.processIdentifier, SIGKILL)
        worker.waitUntilExit()
        let before = try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'")
        #expect(before < total, "killed in the middle")
        let runID = try #require(try f.service.value("SELECT run_id FROM opsctl.runs WHERE runbook = 'replay'").string)

        // The run is resumed with its own params (failed=true) and continues the same replay.
        let resumed = try f.opsctl(["run", "replay", "--resume", runID, "--format", "json"])
        #expect(resumed.exitCode == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(try f.count("SELECT count(*) FROM opsctl.replays") == 1)
        let details = ReplayFixture.results(resumed)["replay"]?["details"] as? [String: Any]
        #expect(details?["created"] as? Bool == false)
        #expect((details?["delivered"] as? Int ?? 0) <= total - before + 64)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'") == total)
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == total)
        #expect(try f.count("SELECT count(*) FROM recovery_cases") == total)
    }

    /// Workers claim blocks of 64 events by advisory locks of their database session: a block held by a
    /// live session is left alone, and is claimed once that session is gone. Rows an older opsctl marked
    /// `sending` for a session that is gone are sent again too.
    @Test func aBlockHeldByALiveSessionIsLeftAloneAndClaimedWhenItEnds() throws {
        let total = 400
        let f = try ReplayFixture(label: "replay_blocks")
        try f.seedFailed(total)
        let worker = try f.spawn(["replay", "--failed", "--rate", "100/s", "--concurrency", "2"])
        #expect(eventually(timeout: 60) {
            (try? f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'")) ?? 0 >= 20
        })
        kill(worker.processIdentifier, SIGKILL)
        worker.waitUntilExit()
        // The killed worker's backend ends (and its locks go) once the server sees the socket closed.
        // Only this fixture's database counts: other suites running in parallel hold their own run and
        // migration locks in the same cluster.
        #expect(eventually(timeout: 30) {
            (try? f.count("""
                SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """)) == 0
        })
        // A live "worker": this session holds the block of the last events.
        let holder = try PostgresConnection(dsn: f.service.databaseURL, applicationName: "replay-tests-holder")
        let lastBlock = try #require(try holder.query("""
            SELECT pg_advisory_lock(hashtext('opsctl:replay:' || replay_id), max(seq) / 64)::text AS locked, max(seq) / 64 AS block
              FROM opsctl.replay_items WHERE status = 'pending' GROUP BY replay_id
            """).first?["block"].int)
        let held = try f.count("SELECT count(*) FROM opsctl.replay_items WHERE seq / 64 = \(lastBlock) AND status = 'pending'")
        #expect(held > 0)
        // An older worker's claim, whose session is gone.
        try f.exec("""
            UPDATE opsctl.replay_items SET status = 'sending', claimed_pid = 999999, claimed_backend_start = now() - interval '1 day'
             WHERE seq IN (SELECT seq FROM opsctl.replay_items WHERE status = 'pending' AND seq / 64 <> \(lastBlock) ORDER BY seq LIMIT 5)
            """)

        let joined = try f.opsctl(["replay", "--join", "latest", "--rate", "5000", "--format", "json"])
        #expect(joined.exitCode == 0, "\(joined.stdout)\(joined.stderr)")
        #expect(joined.stdout.contains("still with other workers"), "\(joined.stdout)")
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'pending'") == held)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'pending' AND seq / 64 <> \(lastBlock)") == 0)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'sending'") == 0)

        holder.close()
        let resumed = try f.opsctl(["replay", "--resume", "latest", "--format", "json"])
        #expect(resumed.exitCode == 0, "\(resumed.stdout)\(resumed.stderr)")
        let details = ReplayFixture.results(resumed)["replay"]?["details"] as? [String: Any]
        #expect(details?["delivered"] as? Int == held)
        #expect(try f.count("SELECT count(*) FROM opsctl.replay_items WHERE status = 'delivered'") == total)
        #expect(try f.count("SELECT count(*) FROM events WHERE processed") == total)
        #expect(try f.count("SELECT count(*) FROM recovery_cases") == total)
    }
}
