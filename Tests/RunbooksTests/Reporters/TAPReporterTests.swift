import Checks
import Foundation
import Runbooks
import Support
import TestSupport
import Testing

/// TAP read by `prove` (the verdict) and by the TAP::Parser behind it (what it counted).
@Suite struct TAPReporterTests {
    /// TAP::Parser's view of the stream, as JSON.
    static let parserScript = #"""
use strict; use warnings; use TAP::Parser; use JSON::PP;
open my $fh, '<:raw', $ARGV[0] or die $!; local $/; my $tap = <$fh>;
my $p = TAP::Parser->new({ tap => $tap });
my ($bailed, %descriptions, %directives) = (0);
while (my $r = $p->next) {
    $bailed = 1 if $r->is_bailout;
    if ($r->is_test) { $descriptions{$r->number} = $r->description; $directives{$r->number} = $r->directive; }
}
print JSON::PP->new->canonical->encode({
    tests_run => $p->tests_run + 0, planned => $p->tests_planned + 0,
    passed => [map { $_ + 0 } $p->passed], failed => [map { $_ + 0 } $p->failed],
    skipped => [map { $_ + 0 } $p->skipped], todo => [map { $_ + 0 } $p->todo],
    parse_errors => [$p->parse_errors], bailed => $bailed,
    descriptions => \%descriptions, directives => \%directives });
"""#

    /// Test::Harness accepts `TAP version 14` from 3.48 on; older ones (Debian 12 and Ubuntu 24.04
    /// ship 3.44) reject the version line alone.
    static let harnessVersion: Double = {
        let out = try? ProcessRunner.run(["perl", "-MTest::Harness", "-e", "print $Test::Harness::VERSION"], timeout: 60)
        return Double(out?.stdout ?? "") ?? 0
    }()

    /// The default options: what `--format tap` prints without `--tap-version`.
    func parse(_ report: RunReport, options: ReporterOptions = ReporterOptions()) throws -> (prove: ProcessOutput, parser: JSONValue) {
        try Consumer.prove.require()
        let tap = TAPReporter(options: options).render(report)
        let directory = TemporaryDirectory()
        let prove = try runConsumer(["prove", "-v", "--exec", "cat", "{}"], file: "report.tap", content: tap, in: directory)
        let parsed = try runConsumer(["perl", "-e", Self.parserScript, "{}"], file: "report.tap", content: tap, in: directory)
        #expect(parsed.exitCode == 0, "TAP::Parser script failed: \(parsed.stderr)")
        return (prove, try #require(JSONValue.parse(parsed.stdout), "no JSON from TAP::Parser: \(parsed.stdout)"))
    }

    @Test(.enabled(if: Consumer.prove.shouldRun, "prove missing: apt-get install perl"))
    func proveFailsARunWithFailures() throws {
        let (prove, parser) = try parse(ReportFixture.report)
        #expect(prove.exitCode != 0, "prove passed a run with failures:\n\(prove.stdout)")
        #expect(prove.stdout.contains("Result: FAIL"))
        #expect(parser["parse_errors"] == [], "\(prove.stdout)")
        #expect(parser["planned"] == 7)
        #expect(parser["tests_run"] == 7, "an injected 'not ok 99' line must not count")
        #expect(parser["failed"] == [4, 5, 7])
        #expect(parser["skipped"] == [6], "the '# SKIP' inside step 5's message must not skip it")
        #expect(parser["todo"] == [], "warn is a comment, not a TODO")
        #expect(parser["passed"]?.array?.contains(3) == true, "warn passes")
        #expect(parser["bailed"] == 0, "'Bail out!' inside a message must not bail out")
        let description = try #require(parser["descriptions"]?["5"]?.string)
        #expect(description.contains("\\# SKIP not really"))
        #expect(!description.contains(ReportFixture.canary))
    }

    @Test(.enabled(if: Consumer.prove.shouldRun, "prove missing: apt-get install perl"))
    func provePassesARunWhereEveryStepPassed() throws {
        let (prove, parser) = try parse(ReportFixture.passingReport)
        #expect(prove.exitCode == 0, "prove rejected a passing run:\n\(prove.stdout)\n\(prove.stderr)")
        #expect(prove.stdout.contains("All tests successful"))
        #expect(parser["parse_errors"] == [])
        #expect(parser["tests_run"] == 3)
        #expect(parser["skipped"] == [3])
    }

    @Test(.enabled(if: Consumer.prove.shouldRun, "prove missing: apt-get install perl"))
    func anAbortedRunBailsOut() throws {
        var report = ReportFixture.passingReport
        report.aborted = "interrupted (SIGINT)"
        let (prove, parser) = try parse(report)
        #expect(prove.exitCode != 0)
        #expect(parser["bailed"] == 1)
    }

    /// The default is TAP 13, which every harness reads: Debian 12's prove (Test::Harness 3.44) passes it.
    @Test(.enabled(if: Consumer.prove.shouldRun, "prove missing: apt-get install perl"))
    func theDefaultVersionIsReadByTheInstalledProve() throws {
        let tap = TAPReporter().render(ReportFixture.passingReport)
        #expect(tap.hasPrefix("TAP version 13\n"))
        let (prove, parser) = try parse(ReportFixture.passingReport)
        #expect(prove.exitCode == 0, "prove \(Self.harnessVersion) rejected the default TAP:\n\(prove.stdout)\n\(prove.stderr)")
        #expect(parser["parse_errors"] == [])
    }

    /// `--tap-version 14` on request: harnesses from 3.48 pass it; older ones reject the version line alone.
    @Test(.enabled(if: Consumer.prove.shouldRun, "prove missing: apt-get install perl"))
    func version14IsReadByHarnessesThatKnowIt() throws {
        let (prove, _) = try parse(ReportFixture.passingReport, options: ReporterOptions(tapVersion: 14))
        if Self.harnessVersion >= 3.48 {
            #expect(prove.exitCode == 0, "\(prove.stdout)\n\(prove.stderr)")
        } else {
            #expect(prove.exitCode != 0, "Test::Harness \(Self.harnessVersion) accepted TAP 14:\n\(prove.stdout)")
        }
    }

    @Test func version14AndVersion13DifferOnlyInTheVersionLine() {
        let v14 = TAPReporter(options: ReporterOptions(tapVersion: 14)).render(ReportFixture.report)
        let v13 = TAPReporter().render(ReportFixture.report)
        #expect(v14.hasPrefix("TAP version 14\n1..7\n"))
        #expect(v14.dropFirst("TAP version 14".count) == v13.dropFirst("TAP version 13".count))
    }

    @Test func warnIsACommentAndFailuresCarryAYAMLBlock() {
        let tap = TAPReporter().render(ReportFixture.report)
        let lines = tap.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.contains("ok 3 - db-size: database at 81% of its 40 GB quota # warn"))
        #expect(lines.contains("ok 6 - smoke # SKIP blocked by migrations, health"))
        let failure = lines.firstIndex { $0.hasPrefix("not ok 4 - migrations") }!
        #expect(lines[failure + 1] == "  ---")
        #expect(lines[failure + 2] == "  status: fail")
        #expect(lines[(failure + 1)...].contains("  duration_ms: 1200"))
        #expect(lines[(failure + 1)...].contains { $0.hasPrefix("  remediation: \"opsctl migrate apply") })
        // Every line is a TAP construct: nothing from a message starts a line of its own.
        for line in lines where !line.isEmpty {
            #expect(line.hasPrefix("ok ") || line.hasPrefix("not ok ") || line.hasPrefix("  ") || line.hasPrefix("#")
                || line.hasPrefix("TAP version") || line.hasPrefix("1.."), "unexpected line: \(line)")
        }
    }
}
