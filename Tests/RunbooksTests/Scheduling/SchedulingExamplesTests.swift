import Foundation
import Runbooks
import Support
import Testing
import TestSupport

extension Consumer {
    static let systemdAnalyze = Consumer(name: "systemd-analyze", probe: ["systemd-analyze", "--version"],
                                         install: "apt-get install systemd   (systemd-analyze verify checks unit files without booting systemd)")
}

/// examples/scheduling: every file is checked by what would read it — systemd-analyze for the units,
/// opsctl's own parser for every opsctl command line in them, promtool for the textfile they write,
/// and the Kubernetes/GitHub Actions documents for the structure their consumers require.
@Suite("scheduling examples") struct SchedulingExamplesTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../examples/scheduling").standardized.path

    static func read(_ name: String) throws -> String { try String(contentsOfFile: directory + "/" + name, encoding: .utf8) }

    static func yaml(_ name: String) throws -> YAMLValue { try YAMLDocument.parse(try read(name), file: name) }

    static let units = ["opsctl-daily.service", "opsctl-daily.timer", "opsctl-monthly.service", "opsctl-monthly.timer"]

    @Test(.enabled(if: Consumer.systemdAnalyze.shouldRun, "systemd-analyze missing: apt-get install systemd"))
    func systemdAnalyzeVerifiesTheUnitsWithoutAWarning() throws {
        try Consumer.systemdAnalyze.require()
        // The units name /usr/local/bin/opsctl; verify checks that ExecStart exists: point it at the built binary.
        let dir = TemporaryDirectory()
        var paths: [String] = []
        for unit in Self.units {
            paths.append(try dir.write(unit, try Self.read(unit).replacingOccurrences(of: "/usr/local/bin/opsctl", with: Opsctl.binary)))
        }
        let out = try ProcessRunner.run(["systemd-analyze", "verify"] + paths, timeout: 60)
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        // Unknown keys and bad values are only warnings to systemd-analyze: none is allowed here.
        #expect(out.stderr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(out.stderr)")
    }

    /// Every opsctl invocation written in the examples, as argument lists.
    static func commandLines() throws -> [(file: String, args: [String])] {
        var lines: [(String, [String])] = []
        func words(after marker: String, in line: String) -> [String]? {
            guard let range = line.range(of: marker) else { return nil }
            return line[range.upperBound...].split(separator: " ").map(String.init).filter { !$0.isEmpty }
        }
        for line in try read("crontab").split(separator: "\n") where !line.hasPrefix("#") {
            if let args = words(after: "&& opsctl ", in: String(line)) { lines.append(("crontab", args)) }
        }
        for unit in units where unit.hasSuffix(".service") {
            for line in try read(unit).split(separator: "\n") {
                if let args = words(after: "ExecStart=/usr/local/bin/opsctl ", in: String(line)) { lines.append((unit, args)) }
            }
        }
        for line in try read("github-deploy-gate.yml").split(separator: "\n") {
            if let args = words(after: "run: opsctl ", in: String(line)) { lines.append(("github-deploy-gate.yml", args)) }
        }
        let cronJob = try yaml("kubernetes-cronjob.yaml")
        let container = cronJob.value("spec")?.value("jobTemplate")?.value("spec")?.value("template")?.value("spec")?
            .value("containers")?.json.array?.first
        lines.append(("kubernetes-cronjob.yaml", container?["args"]?.array?.compactMap(\.string) ?? []))
        // Nagios: command_line with $ARG1$/$ARG2$ filled from each service's check_command.
        let nagios = try read("nagios-opsctl.cfg")
        let template = try #require(nagios.split(separator: "\n").compactMap { words(after: "/usr/local/bin/opsctl ", in: String($0)) }.first)
        for line in nagios.split(separator: "\n") {
            guard let check = words(after: "check_command", in: String(line))?.first else { continue }
            let parts = check.split(separator: "!").map(String.init)
            lines.append(("nagios-opsctl.cfg", template.map { $0.replacingOccurrences(of: "$ARG1$", with: parts[1])
                    .replacingOccurrences(of: "$ARG2$", with: parts[2]).replacingOccurrences(of: "'", with: "") }))
        }
        return lines
    }

    @Test func everyOpsctlCommandLineParsesAndItsRunbookLoads() throws {
        let lines = try Self.commandLines()
        #expect(lines.count >= 10, "\(lines.map(\.file))")
        let project = TemporaryDirectory()
        _ = try project.write("opsctl.yaml", """
            environments:
              production: { protected: true, base_url: "http://127.0.0.1:1" }
            backups: { dir: backups }
            """)
        for (file, args) in lines {
            #expect(!args.isEmpty, "\(file): no arguments found")
            // Files go to the scratch project; --dry-run changes nothing and the database is unreachable,
            // so steps report errors (exit 1) — but a bad flag (64) or an unknown runbook (65) would show.
            let rewritten = args.map { $0.hasPrefix("/var/lib/") || $0.hasPrefix("reports/") ? project.path + "/" + ($0 as NSString).lastPathComponent : $0 }
            let out = try Opsctl.run(rewritten + (rewritten.contains("--dry-run") ? [] : ["--dry-run"]) + ["--no-journal"],
                                     env: ["DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"],
                                     directory: project.path, timeout: 120)
            #expect(![64, 65].contains(out.exitCode), "\(file): opsctl \(args.joined(separator: " ")) → \(out.exitCode): \(out.stderr)")
        }
    }

    @Test(.enabled(if: Consumer.promtool.shouldRun, "promtool missing: apt-get install prometheus"))
    func theTextfileTheTimersWriteIsValidForPromtool() throws {
        try Consumer.promtool.require()
        let project = TemporaryDirectory()
        _ = try project.write("opsctl.yaml", "environments:\n  production: { protected: true }\nbackups: { dir: backups }\n")
        let prom = project.path + "/opsctl_monthly.prom"
        _ = try Opsctl.run(["run", "monthly", "--env", "production", "--format", "prometheus", "--output", prom, "--no-journal"],
                           env: ["DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"], directory: project.path)
        let text = try String(contentsOfFile: prom, encoding: .utf8)
        #expect(text.contains("opsctl_"), "\(text)")
        let out = try ProcessRunner.run(["promtool", "check", "metrics"], stdin: text, timeout: 60)
        #expect(out.exitCode == 0 && out.stdout.isEmpty && out.stderr.isEmpty, "\(out.stdout)\(out.stderr)\n\(text)")
    }

    @Test func theCronJobHasWhatKubernetesRequires() throws {
        let doc = try Self.yaml("kubernetes-cronjob.yaml")
        #expect(doc.value("apiVersion")?.string == "batch/v1")
        #expect(doc.value("kind")?.string == "CronJob")
        #expect(doc.value("metadata")?.value("name")?.string?.range(of: #"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"#, options: .regularExpression) != nil)
        let spec = try #require(doc.value("spec"))
        #expect(spec.value("schedule")?.string?.split(separator: " ").count == 5, "five cron fields")
        #expect(["Allow", "Forbid", "Replace"].contains(spec.value("concurrencyPolicy")?.string ?? ""))
        let pod = try #require(spec.value("jobTemplate")?.value("spec")?.value("template")?.value("spec"))
        #expect(["Never", "OnFailure"].contains(pod.value("restartPolicy")?.string ?? ""), "Jobs need Never or OnFailure")
        let containers = try #require(pod.value("containers")?.json.array)
        #expect(containers.count == 1)
        #expect(containers[0]["name"]?.string != nil && containers[0]["image"]?.string != nil)
        // Every mounted volume is declared.
        let declared = Set((pod.value("volumes")?.json.array ?? []).compactMap { $0["name"]?.string })
        let mounted = Set((containers[0]["volumeMounts"]?.array ?? []).compactMap { $0["name"]?.string })
        #expect(!mounted.isEmpty && mounted.isSubset(of: declared), "mounted \(mounted), declared \(declared)")
    }

    @Test func theDeployGateRunsPredeployThenMigrationsThenVerifyWithJUnit() throws {
        let doc = try Self.yaml("github-deploy-gate.yml")
        #expect(doc.value("on") != nil && doc.value("name") != nil)
        let job = try #require(doc.value("jobs")?.value("deploy"))
        #expect(job.value("runs-on")?.string != nil)
        let runs = (job.value("steps")?.json.array ?? []).compactMap { $0["run"]?.string }
        func index(_ command: String) -> Int? { runs.firstIndex { $0.hasPrefix(command) } }
        let predeploy = try #require(index("opsctl predeploy")), apply = try #require(index("opsctl migrate apply")),
            verify = try #require(index("opsctl verify"))
        #expect(predeploy < apply && apply < verify)
        for i in [predeploy, apply, verify] { #expect(runs[i].contains("--format junit"), "\(runs[i])") }
        let always = (job.value("steps")?.json.array ?? []).contains { $0["if"]?.string == "always()" }
        #expect(always, "reports are published even when a gate fails")
    }
}
