import Checks
import Foundation
import Postgres
import Support

/// Runs a runbook: steps whose needs are met run in parallel (bounded), failures block their
/// dependents, `always` steps run last whatever happened, and an interrupt or deadline stops
/// running steps, still runs the `always` steps and returns the partial report.
public final class Executor: @unchecked Sendable {
    public let runbook: Runbook
    public let options: RunOptions
    public let runID: String
    let reporter: (any Reporter)?
    let sink: ReportSink
    let journal: RunJournal?
    let cancellation: Cancellation
    /// Confirmation and locking already handled by a parent run (included runbooks).
    let preflightDone: Bool

    private let condition = NSCondition()
    private var aborted: String?

    public init(runbook: Runbook, options: RunOptions, reporter: (any Reporter)?, sink: @escaping ReportSink = { _ in },
                journal: RunJournal?, runID: String = Executor.newRunID(), cancellation: Cancellation = Cancellation(),
                preflightDone: Bool = false) {
        self.runbook = runbook
        self.options = options
        self.reporter = reporter
        self.sink = sink
        self.journal = journal
        self.runID = runID
        self.cancellation = cancellation
        self.preflightDone = preflightDone
    }

    /// Short, sortable, unique enough for humans to type: `20261124-111733-3f9a`.
    public static func newRunID() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date()) + "-" + String(UUID().uuidString.lowercased().prefix(4))
    }

    /// Stops the run (SIGINT/SIGTERM, deadline): running steps are cancelled, `always` steps still run.
    public func interrupt(reason: String) {
        condition.withLock {
            if aborted == nil { aborted = reason }
            condition.broadcast()
        }
        cancellation.cancel(reason: reason)
    }

    public func run() -> RunReport {
        let started = Date()
        var report = RunReport(runID: runID, runbook: runbook.name, environment: options.environment.name,
                               startedAt: started, dryRun: options.dryRun)
        let steps: [Step]
        do {
            steps = try Selection.select(runbook, only: options.only, from: options.from)
        } catch {
            report.aborted = "\(error)"
            return report
        }
        reporter?.runStarted(runbook: runbook.name, environment: options.environment.name, runID: runID, sink: sink)
        if !preflightDone, let refusal = preflight(steps) {
            report.aborted = refusal
            report.durationMs = Date().timeIntervalSince(started) * 1000
            reporter?.runFinished(report, sink: sink)
            return report
        }
        journal?.runStarted(runID: runID, runbook: runbook, options: options)
        defer { journal?.release(runID: runID) }

        if let deadline = options.deadline {
            DispatchQueue.global().asyncAfter(deadline: .now() + deadline) { [weak self] in
                self?.interrupt(reason: "deadline of \(DurationText.format(milliseconds: deadline * 1000)) reached")
            }
        }
        let results = schedule(steps)
        report.results = steps.compactMap { results[$0.id] }
        report.aborted = condition.withLock { aborted }
        report.durationMs = Date().timeIntervalSince(started) * 1000
        journal?.runFinished(report)
        reporter?.runFinished(report, sink: sink)
        return report
    }

    /// Confirmation for protected environments and the runbook lock; a refusal aborts (exit 2).
    func preflight(_ steps: [Step]) -> String? {
        let mutating = steps.filter(\.mutates)
        guard !mutating.isEmpty else { return nil }
        let env = options.environment
        // A dry-run asks for no confirmation but does check the lock: a real run would stop there (exit 2).
        if env.protected && options.confirm != env.name && !options.dryRun {
            let list = mutating.map(\.id).joined(separator: ", ")
            guard let prompt = options.prompt else {
                return "environment '\(env.name)' is protected and these steps change it: \(list). Re-run with --confirm \(env.name) (or interactively) to proceed"
            }
            let answer = prompt("Environment '\(env.name)' is protected. These steps change it: \(list).\nType the environment name to continue: ")
            guard answer?.trimmingCharacters(in: .whitespacesAndNewlines) == env.name else {
                return "confirmation refused: typed '\(answer ?? "")', expected '\(env.name)'"
            }
        }
        if let journal, let lockName, let held = journal.acquireLock(name: lockName, wait: options.lockWait) {
            return options.dryRun ? "dry-run: the real run would stop here: " + held : held
        }
        return nil
    }

    /// `opsctl:<environment>:<runbook or lock key>`; nil with `lock: false`.
    var lockName: String? {
        switch runbook.lock {
        case .runbook: "opsctl:\(options.environment.name):\(runbook.name)"
        case let .named(key): "opsctl:\(options.environment.name):\(key)"
        case .none: nil
        }
    }

    // MARK: - Scheduling

    private enum State { case pending, running, done }

    /// Scheduler bookkeeping, touched only with `condition` locked.
    private final class Board: @unchecked Sendable {
        var state: [String: State] = [:]
        var results: [String: StepResult] = [:]
        var finishedQueue: [StepResult] = []
        var running = 0
    }

    private func schedule(_ steps: [Step]) -> [String: StepResult] {
        let selected = Set(steps.map(\.id))
        let board = Board()
        board.state = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, State.pending) })
        let runner = StepRunner(runbookName: runbook.name, options: options, runCancellation: cancellation, promptLock: NSLock(),
                                abort: { [weak self] reason in self?.interrupt(reason: reason) })
        let resumed = options.resumeFrom?.results ?? [:]
        let position = Dictionary(uniqueKeysWithValues: steps.enumerated().map { ($1.id, $0) })

        condition.lock()
        while true {
            // Drain completions (reporter and journal are called from this thread only).
            let completed = board.finishedQueue
            board.finishedQueue.removeAll()
            if !completed.isEmpty {
                condition.unlock()
                for r in completed {
                    reporter?.stepFinished(r, sink: sink)
                    journal?.stepFinished(runID: runID, position: position[r.id] ?? 0, result: r)
                }
                condition.lock()
            }
            if board.state.values.allSatisfy({ $0 == .done }) && board.finishedQueue.isEmpty { break }

            let regularPending = steps.contains { !$0.always && board.state[$0.id] != .done }
            var launched = false
            for step in steps where board.state[step.id] == .pending && board.running < options.parallel {
                let needs = step.needs.filter(selected.contains)
                if needs.contains(where: { board.state[$0] != .done }) { continue }
                if step.always && regularPending { continue }
                if !step.always {
                    let blockers = needs.filter { id in
                        guard let r = board.results[id] else { return false }
                        let dep = steps.first { $0.id == id }
                        return (r.status.isFailure && !(dep?.continueOnFailure ?? false)) || r.blockedBy != nil
                    }
                    if !blockers.isEmpty || aborted != nil {
                        var r = StepResult(id: step.id, title: step.title, kind: step.kind, status: .skipped,
                                           message: aborted.map { "not started: \($0)" } ?? "blocked by \(blockers.joined(separator: ", "))",
                                           mutates: step.mutates)
                        if aborted == nil { r.blockedBy = blockers }
                        board.state[step.id] = .done
                        board.results[step.id] = r
                        board.finishedQueue.append(r)
                        launched = true
                        continue
                    }
                }
                // Scope: params, env, config, and results of finished steps (resumed ones keep their old details).
                var scopeSteps = resumed
                for (id, r) in board.results { scopeSteps[id] = (r.details["resumed_from"] != nil ? resumed[id] : nil) ?? r }
                var stepScope = Scope(params: runbook.values, env: options.stepEnvironment, steps: scopeSteps,
                                      config: options.environment.json)
                stepScope.runID = runID
                let scope = stepScope
                board.state[step.id] = .running
                board.running += 1
                launched = true
                reporterStepStarted(step)
                let condition = self.condition
                let thread = Thread {
                    let result = runner.run(step, scope: scope)
                    condition.withLock {
                        board.state[step.id] = .done
                        board.results[step.id] = result
                        board.finishedQueue.append(result)
                        board.running -= 1
                        condition.broadcast()
                    }
                }
                thread.stackSize = 4 << 20
                thread.start()
            }
            if !launched && board.finishedQueue.isEmpty { condition.wait() }
        }
        condition.unlock()
        return board.results
    }

    private func reporterStepStarted(_ step: Step) {
        guard let reporter else { return }
        // Called with the condition locked; reporters only format and write.
        reporter.stepStarted(id: step.id, title: step.title, kind: step.kind, sink: sink)
    }
}
