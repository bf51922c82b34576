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
    /// The runbook lock, asked for while the read-only steps start (touched with `condition` locked).
    private var lock: RunLock = .notNeeded

    enum RunLock: Equatable {
        case notNeeded, pending, held
        case refused(String)
    }

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
        // Mutating steps wait for the runbook lock; the read-only ones do not.
        let needsLock = !preflightDone && journal != nil && lockName != nil && steps.contains(where: \.mutates)
        if needsLock { condition.withLock { lock = .pending } }
        // The journal hears of the run (and asks for the lock) once the first steps are launched: the
        // start of its thread and its round trips then overlap those steps instead of delaying them.
        var told = false
        func tellJournal() {
            guard !told else { return }
            told = true
            if needsLock { requestLock() }
            journal?.runStarted(runID: runID, runbook: runbook, options: options)
        }
        defer { journal?.release(runID: runID) }

        if let deadline = options.deadline {
            DispatchQueue.global().asyncAfter(deadline: .now() + deadline) { [weak self] in
                self?.interrupt(reason: "deadline of \(DurationText.format(milliseconds: deadline * 1000)) reached")
            }
        }
        let results = schedule(steps, firstLaunched: tellJournal)
        tellJournal()
        // A run that holds mutating steps ends with the lock's answer even when none of them ran
        // (skipped by `when:`, blocked): a refusal still aborts it (exit 2), as before any step started.
        condition.withLock { while lock == .pending { condition.wait() } }
        report.results = steps.compactMap { results[$0.id] }
        report.aborted = condition.withLock { aborted }
        report.durationMs = Date().timeIntervalSince(started) * 1000
        journal?.runFinished(report)
        reporter?.runFinished(report, sink: sink)
        if !preflightDone { EngineTrace.flush(runID: runID) }
        return report
    }

    /// Confirmation for protected environments; a refusal aborts (exit 2) before any step starts.
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
        return nil
    }

    /// Asks for the runbook lock without waiting for the answer (a round trip, or up to --wait): steps
    /// that change nothing start at once, a mutating step starts only once the lock is held. A refusal
    /// aborts the run like an interrupt (exit 2): steps that finished keep their results, steps still
    /// running are stopped, the rest are not started, and cleanup (`always`) steps run unless they mutate.
    func requestLock() {
        guard let journal, let lockName else { return }
        let dryRun = options.dryRun
        journal.acquireLock(name: lockName, wait: options.lockWait) { [self] held in
            let refusal = held.map { dryRun ? "dry-run: the real run would stop here: " + $0 : $0 }
            // The refusal and the abort in one step: the run, woken by the answer, must not see one without the other.
            condition.withLock {
                lock = refusal.map { .refused($0) } ?? .held
                if let refusal, aborted == nil { aborted = refusal }
                condition.broadcast()
            }
            if let refusal { cancellation.cancel(reason: refusal) }
        }
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
        var state: [State] = []
        var results: [String: StepResult] = [:]
        var finishedQueue: [(index: Int, result: StepResult)] = []
        var running = 0
    }

    /// Steps become ready when their last need finishes (a count per step, decremented by each finished
    /// need), so each scheduling pass looks only at ready steps: the run is linear in steps plus needs.
    /// Ready steps start in runbook order (a heap of positions), as a full rescan would start them.
    private func schedule(_ steps: [Step], firstLaunched: () -> Void) -> [String: StepResult] {
        let index = Dictionary(steps.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        let needs = steps.map { $0.needs.compactMap { index[$0] } }
        var dependents = [[Int]](repeating: [], count: steps.count)
        var waitingOn = [Int](repeating: 0, count: steps.count)
        for (i, list) in needs.enumerated() {
            waitingOn[i] = list.count
            for n in list { dependents[n].append(i) }
        }
        // Which earlier results each step can read (`${steps.x…}` in with/when/title/remediation/until):
        // its scope holds only those, not a copy of every result so far.
        let reads = steps.map(Self.stepsRead)
        var ready = PositionHeap()
        var deferredAlways: [Int] = []
        /// Mutating steps ready to start while the runbook lock is still being asked for.
        var waitingForLock: [Int] = []
        var regularLeft = steps.filter { !$0.always }.count
        var doneCount = 0

        // The same for every step of the run: built once here, not on the scheduler's thread for each
        // step it launches (the config's JSON and the environment merge were most of a launch).
        let stepEnvironment = options.stepEnvironment
        let configJSON = options.environment.json
        let board = Board()
        board.state = Array(repeating: .pending, count: steps.count)
        let runner = StepRunner(runbookName: runbook.name, options: options, runCancellation: cancellation, promptLock: NSLock(),
                                abort: { [weak self] reason in self?.interrupt(reason: reason) })
        defer { runner.sessions.closeAll() }
        let resumed = options.resumeFrom?.results ?? [:]
        var whenSkipped = Set<Int>()
        func makeReady(_ i: Int) {
            if steps[i].always && regularLeft > 0 { deferredAlways.append(i) } else { ready.push(i) }
        }
        for i in steps.indices where waitingOn[i] == 0 { makeReady(i) }
        /// Called with the condition locked when step `i` has its result.
        func finished(_ i: Int, _ result: StepResult, queue: Bool) {
            board.state[i] = .done
            board.results[steps[i].id] = result
            if queue { board.finishedQueue.append((i, result)) }
            doneCount += 1
            if !steps[i].always {
                regularLeft -= 1
                if regularLeft == 0 {
                    for a in deferredAlways { ready.push(a) }
                    deferredAlways.removeAll()
                }
            }
            for d in dependents[i] {
                waitingOn[d] -= 1
                if waitingOn[d] == 0 { makeReady(d) }
            }
        }

        var firstPass = true
        condition.lock()
        while true {
            if lock != .pending && !waitingForLock.isEmpty {
                for i in waitingForLock { ready.push(i) }
                waitingForLock.removeAll()
            } else if aborted != nil && waitingForLock.contains(where: { !steps[$0].always }) {
                // Interrupted while the lock is asked for: these will not start; say so now. Cleanup steps that
                // change something still wait for the lock.
                for i in waitingForLock where !steps[i].always { ready.push(i) }
                waitingForLock.removeAll { !steps[$0].always }
            }
            // Drain completions. Their dependents are made ready and launched first; the reporter and the
            // journal (called from this thread only, in completion order) hear of them after that, so
            // neither sits between a step's end and its dependents' start. The journal still writes a
            // step's row before any dependent's row: the dependent has not finished yet.
            let completed = board.finishedQueue
            board.finishedQueue.removeAll()
            for (i, r) in completed {
                EngineTrace.mark("drained", steps[i].id)
                finished(i, r, queue: false)
            }
            // Steps launched in this pass: reported as started after the completions that made them ready,
            // so a stream still shows a step's needs finishing before it starts.
            var launchedNow: [Step] = []
            func report() {
                guard !completed.isEmpty || !launchedNow.isEmpty else { return }
                condition.unlock()
                EngineTrace.mark("report", "-")
                for (i, r) in completed {
                    reporter?.stepFinished(r, sink: sink)
                    journal?.stepFinished(runID: runID, position: i, result: r)
                }
                for step in launchedNow { reporterStepStarted(step) }
                EngineTrace.mark("reported", "-")
                condition.lock()
            }
            if doneCount == steps.count && board.finishedQueue.isEmpty {
                report()
                break
            }

            var launched = false
            while board.running < options.parallel, let i = ready.pop() {
                let step = steps[i]
                launched = true
                if !step.always {
                    let blockers = needs[i].filter { n in
                        guard let r = board.results[steps[n].id] else { return false }
                        if r.status.isFailure { return !steps[n].continueOnFailure }
                        if r.blockedBy != nil { return true }
                        // A need skipped by `when:` did not produce what this step needs, unless it says it runs anyway.
                        return whenSkipped.contains(n) && step.ifNeedsSkipped != .run
                    }.map { steps[$0].id }
                    if !blockers.isEmpty || aborted != nil {
                        let title = Self.title(step, scope: Scope(params: step.scopeParams ?? runbook.values, env: stepEnvironment,
                                                                  config: configJSON))
                        var r = StepResult(id: step.id, title: title, kind: step.kind, status: .skipped,
                                           message: aborted.map { "not started: \($0)" } ?? "blocked by \(blockers.joined(separator: ", "))",
                                           mutates: step.mutates)
                        if aborted == nil { r.blockedBy = blockers }
                        board.state[i] = .done
                        board.finishedQueue.append((i, r))
                        continue
                    }
                }
                // Scope: params, env, config, and the results this step reads (resumed ones keep their old details).
                var scopeSteps: [String: StepResult] = [:]
                for id in reads[i] {
                    if let r = board.results[id] {
                        scopeSteps[id] = (r.details["resumed_from"] != nil ? resumed[id] : nil) ?? r
                    } else if let r = resumed[id] {
                        scopeSteps[id] = r
                    }
                }
                var stepScope = Scope(params: step.scopeParams ?? runbook.values, env: stepEnvironment, steps: scopeSteps,
                                      config: configJSON)
                stepScope.runID = runID
                let scope = stepScope
                var titled = step
                titled.title = Self.title(step, scope: scope)
                if let when = step.when, !when.evaluate({ scope.lookup($0) }) {
                    let r = StepResult(id: step.id, title: titled.title, kind: step.kind, status: .skipped,
                                       message: "condition not met: \(when.source)", mutates: step.mutates)
                    whenSkipped.insert(i)
                    board.state[i] = .done
                    board.finishedQueue.append((i, r))
                    continue
                }
                if step.mutates {
                    if lock == .pending {
                        waitingForLock.append(i)
                        continue
                    }
                    if case let .refused(why) = lock {
                        // A cleanup step that changes something never runs without the lock.
                        let r = StepResult(id: step.id, title: titled.title, kind: step.kind, status: .skipped,
                                           message: "not started: \(why)", mutates: true)
                        board.state[i] = .done
                        board.finishedQueue.append((i, r))
                        continue
                    }
                }
                let run = titled
                board.state[i] = .running
                board.running += 1
                launchedNow.append(run)
                let condition = self.condition
                let thread = Thread {
                    EngineTrace.mark("thread", run.id)
                    let result = runner.run(run, scope: scope)
                    EngineTrace.mark("returned", run.id)
                    condition.withLock {
                        board.finishedQueue.append((i, result))
                        board.running -= 1
                        EngineTrace.mark("queued", run.id)
                        condition.broadcast()
                    }
                }
                thread.stackSize = 4 << 20
                EngineTrace.mark("launch", run.id)
                thread.start()
            }
            report()
            if firstPass {
                firstPass = false
                condition.unlock()
                firstLaunched()
                condition.lock()
            }
            if !launched && board.finishedQueue.isEmpty {
                // Nothing runs and nothing is ready, yet regular steps wait: they need a cleanup step. Start it.
                if board.running == 0 && ready.isEmpty && waitingForLock.isEmpty && !deferredAlways.isEmpty {
                    for a in deferredAlways { ready.push(a) }
                    deferredAlways.removeAll()
                    continue
                }
                condition.wait()
                EngineTrace.mark("woke", "-")
            }
        }
        condition.unlock()
        return board.results
    }

    /// Step ids a step reads through `${steps.ID…}` or `steps.ID…` in its conditions.
    static func stepsRead(_ step: Step) -> Set<String> {
        var refs = Interpolation.references(in: .object(step.with)) + Interpolation.references(in: step.title)
        refs += step.when?.paths ?? []
        refs += step.retry.until?.paths ?? []
        if let r = step.remediation { refs += Interpolation.references(in: r) }
        if let d = step.database { refs += Interpolation.references(in: d) }
        var out = Set<String>()
        for ref in refs where ref.hasPrefix("steps.") {
            let parts = ref.split(separator: ".", maxSplits: 2)
            if parts.count >= 2 { out.insert(String(parts[1])) }
        }
        return out
    }

    /// `delete in batches of ${params.batch}`: titles are interpolated like parameters (as written when a value is missing).
    static func title(_ step: Step, scope: Scope) -> String {
        guard step.title.contains("${") else { return step.title }
        return (try? Interpolation.resolve(step.title, in: scope)).map { $0.string ?? $0.jsonText } ?? step.title
    }

    private func reporterStepStarted(_ step: Step) {
        guard let reporter else { return }
        // Called from the scheduling thread only; reporters only format and write.
        reporter.stepStarted(id: step.id, title: step.title, kind: step.kind, sink: sink)
    }
}

/// A min-heap of step positions: ready steps start in runbook order.
struct PositionHeap {
    private var items: [Int] = []

    var isEmpty: Bool { items.isEmpty }

    mutating func push(_ x: Int) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[parent] > items[i] else { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> Int? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        guard !items.isEmpty else { return top }
        items[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && items[l] < items[m] { m = l }
            if r < items.count && items[r] < items[m] { m = r }
            if m == i { break }
            items.swapAt(m, i)
            i = m
        }
        return top
    }
}
