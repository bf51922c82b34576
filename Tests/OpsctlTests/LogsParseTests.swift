import Foundation
import Testing
import TestSupport

/// `opsctl logs analyze` is parsed by its own command before the root's parse; whatever that parse
/// does not run (help, usage and validation errors) must read exactly as the root's parse prints it.
@Suite struct LogsParseTests {
    @Test func helpIsTheRootsHelp() throws {
        let project = Project()
        let out = try project.opsctl(["logs", "analyze", "--help"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stdout.contains("USAGE: opsctl logs analyze [<options>] [<files> ...]"), "\(out.stdout)")
    }

    @Test(arguments: [
        (["logs", "analyze", "--top", "0", "app.log"], "Error: --top must be at least 1"),
        (["logs", "analyze", "--bogus", "app.log"], "Error: Unknown option '--bogus'"),
    ])
    func usageErrorsNameTheFullCommand(args: [String], message: String) throws {
        let project = Project()
        let out = try project.opsctl(args)
        #expect(out.exitCode == 64, "\(out.stderr)")
        #expect(out.stderr.contains(message), "\(out.stderr)")
        #expect(out.stderr.contains("Usage: opsctl logs analyze [<options>] [<files> ...]"), "\(out.stderr)")
        #expect(out.stderr.contains("See 'opsctl logs analyze --help' for more information."), "\(out.stderr)")
    }

    @Test func analysisRunsThroughTheDirectParse() throws {
        let project = Project()
        try project.file("app.log", #"{"level":30,"time":1767225600000,"msg":"started"}"# + "\n"
                         + #"{"level":50,"time":1767225601000,"msg":"payment failed for order 17"}"# + "\n")
        let out = try project.opsctl(["logs", "analyze", "app.log", "--format", "json", "--top", "5"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        #expect(report["lines"] as? Int == 2)
        #expect(report["errors"] as? Int == 1)
        let top = try #require(report["top_fingerprints"] as? [[String: Any]])
        #expect(top.first?["fingerprint"] as? String == "payment failed for order <num>")
    }

    @Test("OPSCTL_PHASES=1 prints the analysis's timeline in order; OPSCTL_PHASES=0 prints nothing")
    func phasesTimeline() throws {
        let project = Project()
        try project.file("app.log", #"{"level":50,"time":1767225601000,"msg":"payment failed"}"# + "\n")
        let quiet = try project.opsctl(["logs", "analyze", "app.log", "--format", "json"], env: ["OPSCTL_PHASES": "0"])
        #expect(quiet.exitCode == 0, "\(quiet.stderr)")
        #expect(!quiet.stderr.contains("phase "), "\(quiet.stderr)")
        let out = try project.opsctl(["logs", "analyze", "app.log", "--format", "json"], env: ["OPSCTL_PHASES": "1"])
        #expect(out.exitCode == 0, "\(out.stderr)")
        let names = out.stderr.split(separator: "\n").filter { $0.hasPrefix("phase ") }
            .map { $0.split(separator: " ", maxSplits: 4).map(String.init) }.filter { $0.count == 5 }.map { $0[4] }
        #expect(names == ["main", "parsed", "logs: secrets registered", "logs: workers started", "logs: scan done",
                          "logs: merged", "logs: report built", "logs: report written"], "\(out.stderr)")
    }
}
