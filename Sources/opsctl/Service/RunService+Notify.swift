import Checks
import Foundation
import Runbooks

extension RunService {
    /// Sends the run's transitions to opsctl.yaml's `notify:` channels. The statuses to compare with
    /// come from the journal (the last runs of this runbook in this environment), so only changes are
    /// sent; what happened is printed on stderr and never changes the exit code.
    /// `loaded`: the config the run was started with (opsctl.yaml is not read and parsed again at the
    /// end of every run); nil: loaded here.
    func notify(_ report: RunReport, journal: RunJournal?, config loaded: Config? = nil) {
        guard let config = loaded ?? (try? Config.load(path: global.config)), !config.notify.isEmpty else { return }
        let environment = ProcessInfo.processInfo.environment
        let notifier = Notifier(config: config.notify, environment: environment,
                                statePath: Notifier.defaultStatePath(environment: environment))
        guard notifier.applies(to: report) else { return }
        var earlier: [RunReport] = []
        if let journal, let runs = try? journal.history(runbook: report.runbook, limit: 20) {
            for run in runs where run.runID != report.runID && run.environment == report.environment && !run.dryRun {
                if let previous = try? journal.report(runID: run.runID) { earlier.append(previous) }
                if earlier.count == 10 { break }
            }
        }
        for line in notifier.notify(report, before: Transition.lastKnown(earlier)) { Terminal.note(line) }
    }
}
