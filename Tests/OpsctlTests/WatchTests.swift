import Foundation
import Support
import Testing
import TestSupport

/// The results of a `--format json` report, by step id.
private func byID(_ out: ProcessOutput) throws -> [String: [String: Any]] {
    let report = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any], "\(out.stdout)\(out.stderr)")
    let list = try #require(report["results"] as? [[String: Any]])
    return Dictionary(list.map { ($0["id"] as? String ?? "", $0) }) { first, _ in first }
}

private func watch(_ result: [String: Any]?) -> [String: Any] { (result?["details"] as? [String: Any])?["watch"] as? [String: Any] ?? [:] }

/// `--watch`: a check that flaps (a real process whose outcome follows its own run count) watched
/// over a window; the one report names the transitions, the time not ok and the exit code follows
/// `--tolerate`.
@Suite("--watch: one report over a window of runs", .serialized)
struct WatchTests {
    /// `flappy` fails on its 3rd and 4th runs only; `steady` always passes.
    func project(failOn condition: String = "[ $n -lt 3 ] || [ $n -gt 4 ]") throws -> Project {
        let p = Project()
        try p.file("watched.yaml", """
            name: watched
            steps:
              - id: flappy
                kind: shell
                with:
                  readonly: true
                  command: 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo "run $n"; \(condition)'
                remediation: Look at the service logs
              - id: steady
                kind: shell
                with: { readonly: true, command: 'true' }
            """)
        return p
    }

    @Test func flappingCheckReportsItsTransitionsAndFails() throws {
        let p = try project()
        let out = try p.opsctl(["run", "watched.yaml", "--watch", "2s", "--every", "150ms", "--format", "json"])
        #expect(out.exitCode == 1, "\(out.stdout)\(out.stderr)")
        let results = try byID(out)
        let flappy = watch(results["flappy"])
        #expect(results["flappy"]?["status"] as? String == "fail")
        let transitions = (flappy["transitions"] as? [[String: Any]] ?? []).map { "\($0["from"] ?? "")→\($0["to"] ?? "")" }
        #expect(transitions == ["ok→fail", "fail→ok"], "\(flappy)")
        #expect((flappy["runs"] as? Int ?? 0) >= 5, "\(flappy)")
        #expect((flappy["non_ok_ms"] as? Double ?? 0) > 0)
        #expect((results["flappy"]?["message"] as? String)?.hasPrefix("ok→fail→ok over ") == true, "\(results["flappy"] ?? [:])")
        #expect(results["steady"]?["status"] as? String == "ok")
        #expect((watch(results["steady"])["transitions"] as? [Any])?.isEmpty == true)

        // The journal holds the watch as one run.
        let history = try p.opsctl(["history", "--runbook", "watched", "--format", "json"])
        let runs = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]], "\(history.stderr)")
        #expect(runs.count == 1, "\(history.stdout)")
        #expect(runs.first?["status"] as? String == "fail")
    }

    @Test func aFailureShorterThanTolerateIsAWarning() throws {
        let p = try project()
        let out = try p.opsctl(["run", "watched.yaml", "--watch", "2s", "--every", "150ms", "--tolerate", "30s", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let flappy = try byID(out)["flappy"]
        #expect(flappy?["status"] as? String == "warn")
        #expect((flappy?["message"] as? String)?.contains("within --tolerate 30.0s") == true, "\(flappy ?? [:])")
    }

    @Test func untilOKStopsAtTheFirstHealthyRun() throws {
        let p = try project(failOn: "[ $n -gt 2 ]")
        // Waiting for a deploy to become healthy: the failures before it did are tolerated, not forgotten.
        let out = try p.opsctl(["run", "watched.yaml", "--watch", "5m", "--every", "100ms", "--until-ok", "--tolerate", "1m", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let results = try byID(out)
        #expect(watch(results["flappy"])["runs"] as? Int == 3)
        #expect(watch(results["flappy"])["last_status"] as? String == "ok")
        #expect(results["flappy"]?["status"] as? String == "warn")
        let strict = try p.opsctl(["run", "watched.yaml", "--watch", "5m", "--every", "100ms", "--until-ok", "--format", "json"])
        #expect(strict.exitCode == 0, "the counter is past 2 now: the first run is ok \(strict.stdout)")
    }

    @Test func untilOKThatNeverComesFails() throws {
        let p = try project(failOn: "false")
        let out = try p.opsctl(["run", "watched.yaml", "--watch", "600ms", "--every", "100ms", "--until-ok", "--tolerate", "1h", "--format", "json"])
        #expect(out.exitCode == 1, "\(out.stdout)\(out.stderr)")
        #expect(try byID(out)["watch"]?["status"] as? String == "fail")
    }

    @Test func untilFailStopsAtTheFirstFailure() throws {
        let p = try project(failOn: "[ $n -lt 2 ]")
        let out = try p.opsctl(["run", "watched.yaml", "--watch", "5m", "--every", "100ms", "--until-fail", "--format", "json"])
        #expect(out.exitCode == 1, "\(out.stdout)\(out.stderr)")
        #expect(watch(try byID(out)["flappy"])["runs"] as? Int == 2)
    }

    @Test func jsonlStreamsEveryRunAndPrometheusKeepsTheLatest() throws {
        let p = try project()
        let out = try p.opsctl(["run", "watched.yaml", "--watch", "5m", "--every", "100ms", "--until-fail", "--format", "jsonl"])
        #expect(out.exitCode == 1)
        let events = out.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(events.filter { $0["event"] as? String == "run_finished" }.count == 4, "three runs streamed, then the watch's report: \(out.stdout)")
        #expect(events.last?["event"] as? String == "run_finished")

        let prom = try project()
        let written = try prom.opsctl(["run", "watched.yaml", "--watch", "5m", "--every", "100ms", "--until-fail", "--format", "prometheus", "--output", "watch.prom"])
        #expect(written.exitCode == 1)
        let text = try String(contentsOfFile: prom.dir.path + "/watch.prom", encoding: .utf8)
        #expect(text.contains("transitions"), "the final report replaced the per-run files: \(text)")
    }

    @Test func healthAndVerifyTakeTheWatchFlags() throws {
        let server = try StaticHTTPServer(files: ["api/health": #"{"status":"healthy"}"#])
        let p = Project()
        let out = try p.opsctl(["health", "--no-database", "--url", server.url("api/health"), "--watch", "700ms", "--every", "200ms", "--format", "json"])
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        #expect((watch(try byID(out)["endpoint"])["runs"] as? Int ?? 0) >= 2)
        let help = try p.opsctl(["verify", "--help"])
        #expect(help.stdout.contains("--watch"))
    }

    @Test func watchFlagsWithoutWatchAreUsageErrors() throws {
        let p = try project()
        for args in [["--every", "1s"], ["--until-ok"], ["--watch", "1m", "--until-ok", "--until-fail"], ["--watch", "0s"], ["--watch", "soon"]] {
            let out = try p.opsctl(["run", "watched.yaml"] + args)
            #expect(out.exitCode == 64, "\(args): \(out.stderr)")
        }
    }
}
