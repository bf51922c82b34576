import ArgumentParser
import Checks
import Foundation
import Runbooks
import Support

/// `opsctl history --check 'daily<26h'`: opsctl's own dead-man's switch. Each check is a result
/// ("daily last succeeded 3.2 h ago"), so every format and exit code works as for a run: a runbook
/// that has not succeeded within its limit fails (exit 1; Nagios CRITICAL).
struct HistoryCheck {
    let runbook: String
    let limitSeconds: Double
    let text: String

    /// `daily<26h` (also `daily < 26h`, `daily<=26h`).
    init?(_ text: String) {
        guard let at = text.firstIndex(of: "<") else { return nil }
        let name = text[..<at].trimmingCharacters(in: .whitespaces)
        var rest = text[text.index(after: at)...]
        if rest.first == "=" { rest = rest.dropFirst() }
        let duration = rest.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, DurationText.problem(duration) == nil, let seconds = DurationText.seconds(duration), seconds > 0 else { return nil }
        runbook = name
        limitSeconds = seconds
        self.text = "\(name)<\(duration)"
    }

    /// A run counts as a success when it finished ok (warnings allowed), for real, without being aborted.
    static func isSuccess(_ run: RunSummary) -> Bool {
        ["ok", "warn"].contains(run.status) && !run.dryRun && run.aborted == nil
    }

    func result(from runs: [RunSummary], now: Date = Date()) -> StepResult {
        let thresholds = Thresholds(crit: limitSeconds)
        let id = runbook
        let title = "\(runbook) succeeded within \(Self.span(limitSeconds))"
        guard let last = runs.first(where: Self.isSuccess) else {
            let latest = runs.first.map { "; latest run \($0.runID) ended \(Opsctl.History.shownStatus($0))" } ?? ""
            return StepResult(id: id, title: title, kind: "history.check", status: .fail,
                              message: "\(runbook) has no successful run in the journal\(latest)",
                              details: ["runs_seen": .int(runs.count)],
                              remediation: "Check the scheduler (cron, systemd timer, CI schedule) that runs 'opsctl run \(runbook)', and its last output.")
        }
        let finished = last.startedAt.addingTimeInterval((last.durationMs ?? 0) / 1000)
        let age = max(now.timeIntervalSince(finished), 0)
        let status = thresholds.status(for: age)
        let ago = Self.span(age)
        var message = "\(runbook) last succeeded \(ago) ago (run \(last.runID))"
        if status != .ok { message += ", longer than \(Self.span(limitSeconds))" }
        if let newest = runs.first, newest.runID != last.runID { message += "; latest run \(newest.runID) ended \(Opsctl.History.shownStatus(newest))" }
        return StepResult(id: id, title: title, kind: "history.check", status: status, message: message,
                          details: ["last_success_run": .string(last.runID),
                                    "last_success_at": .string(ISO8601DateFormatter().string(from: finished))],
                          metrics: [thresholds.metric("since_success", age, unit: "s", min: 0)],
                          remediation: status == .ok ? nil : "Check the scheduler that runs 'opsctl run \(runbook)' and its latest run ('opsctl show RUN_ID').")
    }

    /// `26.0 h`, `3.5 days`, `12 min`: the units a schedule is written in.
    static func span(_ seconds: Double) -> String {
        if seconds >= 172_800 { return String(format: "%.1f days", seconds / 86_400) }
        if seconds >= 3600 { return String(format: "%.1f h", seconds / 3600) }
        if seconds >= 60 { return String(format: "%.0f min", seconds / 60) }
        return String(format: "%.0f s", seconds)
    }

    /// Runs the checks against the journal and exits with the format's code.
    static func run(_ checks: [HistoryCheck], journal: RunJournal, environment: String?, format: String, output: String?) throws -> Never {
        let started = Date()
        var results: [StepResult] = []
        for check in checks {
            // Enough runs to find the last success behind a streak of failures, bounded.
            results.append(check.result(from: try journal.history(runbook: check.runbook, limit: 1000)))
        }
        let report = RunReport(runID: "history-check", runbook: "history-check", environment: environment, startedAt: started,
                               durationMs: Date().timeIntervalSince(started) * 1000, results: results)
        let parsed = try OutputFormat.parse(format)
        try ReportWriter(output: output).write(parsed.makeReporter().render(report))
        throw ExitCode(parsed.exitCode(for: report, strict: false))
    }
}
