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
        UTCStamp.uniqueID()
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

    /// One run's scheduling state. Every `var` is touched only with `condition` locked, by the scheduling
    /// thread or by a step's thread that has just finished its step (see `work`).
    private final class Board: @unchecked Sendable {
        let steps: [Step]
        let needs: [[Int]]
        let dependents: [[Int]]
        /// Which earlier results each step can read (`${steps.x…}` in with/when/title/remediation/until):
        /// its scope holds only those, not a copy of every result so far.
        let reads: [Set<String>]
        /// Steps still to run after each step, on its longest chain of dependents (`always` steps follow
        /// every regular step): the step a finishing thread goes on with itself is the one with most ahead.
        let ahead: [Int]
        var waitingOn: [Int]
        var results: [String: StepResult] = [:]
        var finishedQueue: [(index: Int, result: StepResult)] = []
        var running = 0
        var ready = PositionHeap()
        var deferredAlways: [Int] = []
        /// Mutating steps ready to start while the runbook lock is still being asked for.
        var waitingForLock: [Int] = []
        var regularLeft: Int
        var doneCount = 0
        var whenSkipped = Set<Int>()
        /// What the reporter and the journal have not heard of yet, in the order it happened: a step's
        /// needs finishing always come before its start. Only the scheduling thread tells them.
        var news: [News] = []
        /// Step threads waiting for a launch; `over` once the run has ended (no thread parks any more).
        var parked: [Parked] = []
        var over = false

        enum News {
            case finished(Int, StepResult)
            case started(Step)
        }

        init(_ steps: [Step]) {
            self.steps = steps
            (needs, dependents) = Executor.graph(steps)
            waitingOn = needs.map(\.count)
            reads = steps.map(Executor.stepsRead)
            regularLeft = steps.filter { !$0.always }.count
            ahead = Executor.stepsAhead(steps, needs: needs, dependents: dependents)
        }
    }

    /// Steps still to run after each step on its longest chain of dependents, `always` steps counted
    /// after every regular step.
    static func stepsAhead(_ steps: [Step]) -> [Int] {
        let (needs, dependents) = graph(steps)
        return stepsAhead(steps, needs: needs, dependents: dependents)
    }

    /// Each step's needs and dependents, as positions in `steps`.
    static func graph(_ steps: [Step]) -> (needs: [[Int]], dependents: [[Int]]) {
        let index = Dictionary(steps.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        let needs = steps.map { $0.needs.compactMap { index[$0] } }
        var dependents = [[Int]](repeating: [], count: steps.count)
        for (i, list) in needs.enumerated() { for n in list { dependents[n].append(i) } }
        return (needs, dependents)
    }

    /// In reverse topological order, without recursion (runbooks may hold thousands of steps): cleanup
    /// steps among themselves first, then regular steps, each at least the longest cleanup chain + 1.
    static func stepsAhead(_ steps: [Step], needs: [[Int]], dependents: [[Int]]) -> [Int] {
        var ahead = [Int](repeating: 0, count: steps.count)
        func longest(always: Bool, atLeast floor: Int) {
            let inGroup = { (i: Int) in steps[i].always == always }
            var left = [Int](repeating: 0, count: steps.count)   // dependents in the group not yet counted
            for i in steps.indices where inGroup(i) { left[i] = dependents[i].filter(inGroup).count }
            var counted = steps.indices.filter { inGroup($0) && left[$0] == 0 }
            while let i = counted.popLast() {
                ahead[i] = max(dependents[i].filter(inGroup).map { ahead[$0] + 1 }.max() ?? 0, floor)
                for n in needs[i] where inGroup(n) {
                    left[n] -= 1
                    if left[n] == 0 { counted.append(n) }
                }
            }
        }
        longest(always: true, atLeast: 0)
        longest(always: false, atLeast: steps.indices.filter { steps[$0].always }.map { ahead[$0] + 1 }.max() ?? 0)
        return ahead
    }

    /// A step about to run, with its scope.
    private struct Launch: Sendable {
        let index: Int
        let step: Step
        let scope: Scope
    }

    /// Steps become ready when their last need finishes (a count per step, decremented by each finished
    /// need), so each pass looks only at ready steps: the run is linear in steps plus needs. Ready steps
    /// start in runbook order (a heap of positions), as a full rescan would start them.
    ///
    /// The thread whose step just finished does the bookkeeping and runs the next ready step itself:
    /// a hand-over on the critical path costs no wake-up of this thread and no new thread, which on a
    /// busy machine (every core taken by steps, their database sessions and the service) each meant
    /// waiting for a core. This thread starts the first steps, releases the steps that waited for the
    /// lock, runs a cleanup step regular steps wait for, and tells the reporter and the journal.
    private func schedule(_ steps: [Step], firstLaunched: () -> Void) -> [String: StepResult] {
        let board = Board(steps)
        let runner = StepRunner(runbookName: runbook.name, options: options, runCancellation: cancellation, promptLock: NSLock(),
                                abort: { [weak self] reason in self?.interrupt(reason: reason) })
        defer { runner.sessions.closeAll() }
        // The same for every step of the run: built once here, not for each step launched (the config's
        // JSON and the environment merge were most of a launch).
        let shared = LaunchScope(params: runbook.values, env: options.stepEnvironment, config: options.environment.json,
                                 resumed: options.resumeFrom?.results ?? [:])
        for i in steps.indices where board.waitingOn[i] == 0 { makeReady(i, board) }

        var firstPass = true
        condition.lock()
        while true {
            var launches = advance(board, shared)
            let woken = hand(&launches, board)
            let news = board.news
            board.news.removeAll()
            if !woken.isEmpty || !launches.isEmpty || !news.isEmpty || firstPass {
                condition.unlock()
                for p in woken { p.wake.signal() }
                for launch in launches { spawn(launch, board, shared, runner) }
                if firstPass {
                    firstPass = false
                    firstLaunched()
                }
                EngineTrace.mark("report", "-")
                for item in news {
                    switch item {
                    case let .finished(i, r):
                        reporter?.stepFinished(r, sink: sink)
                        journal?.stepFinished(runID: runID, position: i, result: r)
                    case let .started(step):
                        reporterStepStarted(step)
                    }
                }
                EngineTrace.mark("reported", "-")
                condition.lock()
                continue
            }
            if board.doneCount == steps.count { break }
            // Nothing runs and nothing is ready, yet regular steps wait: they need a cleanup step. Start it.
            if board.running == 0 && board.ready.isEmpty && board.waitingForLock.isEmpty && !board.deferredAlways.isEmpty {
                for a in board.deferredAlways { board.ready.push(a) }
                board.deferredAlways.removeAll()
                continue
            }
            condition.wait()
            EngineTrace.mark("woke", "-")
        }
        // Parked threads end with the run.
        board.over = true
        let idle = board.parked
        board.parked.removeAll()
        condition.unlock()
        for p in idle { p.wake.signal() }
        return board.results
    }

    /// What every step's scope starts from.
    private struct LaunchScope: Sendable {
        let params: [String: JSONValue]
        let env: [String: String]
        let config: JSONValue
        let resumed: [String: StepResult]
    }

    /// A step thread with nothing to run: it waits for the next launch rather than exit, so a later
    /// launch costs a wake-up instead of a new thread (creating one, and its first turn on a core, was
    /// most of a launch on a busy machine). `launch` is set with `condition` locked before `wake` is
    /// signalled; nil when the run is over.
    private final class Parked: @unchecked Sendable {
        let wake = DispatchSemaphore(value: 0)
        var launch: Launch?
    }

    /// Runs `launch`, then, as long as its completion makes steps ready, the one with most steps ahead
    /// of it (the others go to parked threads or new ones); with nothing ready it parks until the run
    /// has another step for it or ends.
    private func work(_ launch: Launch, _ board: Board, _ shared: LaunchScope, _ runner: StepRunner) {
        var next: Launch? = launch
        while let current = next {
            EngineTrace.mark("thread", current.step.id)
            let result = runner.run(current.step, scope: current.scope)
            EngineTrace.mark("returned", current.step.id)
            var parked: Parked?
            let (mine, woken, spawned) = condition.withLock { () -> (Launch?, [Parked], [Launch]) in
                board.finishedQueue.append((current.index, result))
                board.running -= 1
                EngineTrace.mark("queued", current.step.id)
                var launches = advance(board, shared)
                condition.broadcast()
                let mine = launches.isEmpty ? nil : launches.removeFirst()
                let woken = hand(&launches, board)
                if mine == nil && !board.over {
                    parked = Parked()
                    board.parked.append(parked!)
                }
                return (mine, woken, launches)
            }
            for p in woken { p.wake.signal() }
            for other in spawned { spawn(other, board, shared, runner) }
            if let mine {
                next = mine
            } else if let parked {
                parked.wake.wait()
                next = condition.withLock { parked.launch }
            } else {
                next = nil
            }
        }
    }

    /// Called with `condition` locked, `launches` in the order they should start (most steps ahead
    /// first): gives the first ones to parked threads, which the caller wakes; the rest need threads.
    private func hand(_ launches: inout [Launch], _ board: Board) -> [Parked] {
        var woken: [Parked] = []
        while !launches.isEmpty, let p = board.parked.popLast() {
            p.launch = launches.removeFirst()
            EngineTrace.mark("handed", p.launch!.step.id)
            woken.append(p)
        }
        return woken
    }

    private func spawn(_ launch: Launch, _ board: Board, _ shared: LaunchScope, _ runner: StepRunner) {
        let thread = Thread { [self] in work(launch, board, shared, runner) }
        thread.stackSize = 4 << 20
        EngineTrace.mark("launch", launch.step.id)
        thread.start()
    }

    /// Called with `condition` locked: a step whose needs are all done is ready (cleanup steps wait for
    /// the regular ones).
    private func makeReady(_ i: Int, _ board: Board) {
        if board.steps[i].always && board.regularLeft > 0 { board.deferredAlways.append(i) } else { board.ready.push(i) }
    }

    /// Called with `condition` locked: takes in finished steps and returns the ready steps to start now
    /// (up to --parallel running); steps that will not run (blocked, `when:` false, aborted) finish here.
    private func advance(_ board: Board, _ shared: LaunchScope) -> [Launch] {
        let steps = board.steps
        var launches: [Launch] = []
        repeat {
            if lock != .pending && !board.waitingForLock.isEmpty {
                for i in board.waitingForLock { board.ready.push(i) }
                board.waitingForLock.removeAll()
            } else if aborted != nil && board.waitingForLock.contains(where: { !steps[$0].always }) {
                // Interrupted while the lock is asked for: these will not start; say so now. Cleanup steps that
                // change something still wait for the lock.
                for i in board.waitingForLock where !steps[i].always { board.ready.push(i) }
                board.waitingForLock.removeAll { !steps[$0].always }
            }
            let completed = board.finishedQueue
            board.finishedQueue.removeAll()
            for (i, result) in completed {
                EngineTrace.mark("drained", steps[i].id)
                board.results[steps[i].id] = result
                board.news.append(.finished(i, result))
                board.doneCount += 1
                if !steps[i].always {
                    board.regularLeft -= 1
                    if board.regularLeft == 0 {
                        for a in board.deferredAlways { board.ready.push(a) }
                        board.deferredAlways.removeAll()
                    }
                }
                for d in board.dependents[i] {
                    board.waitingOn[d] -= 1
                    if board.waitingOn[d] == 0 { makeReady(d, board) }
                }
            }
            while board.running < options.parallel, let i = board.ready.pop() {
                if let launch = prepare(i, board, shared) {
                    board.running += 1
                    board.news.append(.started(launch.step))
                    launches.append(launch)
                }
            }
        } while !board.finishedQueue.isEmpty
        // The reporter hears of them in runbook order (above); they start most steps ahead first.
        return launches.sorted { (board.ahead[$0.index], -$0.index) > (board.ahead[$1.index], -$1.index) }
    }

    /// Called with `condition` locked for a ready step: its launch, or nil when it finished here
    /// (blocked, not started, `when:` false; the result is queued) or waits for the runbook lock.
    private func prepare(_ i: Int, _ board: Board, _ shared: LaunchScope) -> Launch? {
        let steps = board.steps
        let step = steps[i]
        if !step.always {
            let blockers = board.needs[i].filter { n in
                guard let r = board.results[steps[n].id] else { return false }
                if r.status.isFailure { return !steps[n].continueOnFailure }
                if r.blockedBy != nil { return true }
                // A need skipped by `when:` did not produce what this step needs, unless it says it runs anyway.
                return board.whenSkipped.contains(n) && step.ifNeedsSkipped != .run
            }.map { steps[$0].id }
            if !blockers.isEmpty || aborted != nil {
                let title = Self.title(step, scope: Scope(params: step.scopeParams ?? shared.params, env: shared.env, config: shared.config))
                var r = StepResult(id: step.id, title: title, kind: step.kind, status: .skipped,
                                   message: aborted.map { "not started: \($0)" } ?? "blocked by \(blockers.joined(separator: ", "))",
                                   mutates: step.mutates)
                if aborted == nil { r.blockedBy = blockers }
                board.finishedQueue.append((i, r))
                return nil
            }
        }
        // Scope: params, env, config, and the results this step reads (resumed ones keep their old details).
        var scopeSteps: [String: StepResult] = [:]
        for id in board.reads[i] {
            if let r = board.results[id] {
                scopeSteps[id] = (r.details["resumed_from"] != nil ? shared.resumed[id] : nil) ?? r
            } else if let r = shared.resumed[id] {
                scopeSteps[id] = r
            }
        }
        var scope = Scope(params: step.scopeParams ?? shared.params, env: shared.env, steps: scopeSteps, config: shared.config)
        scope.runID = runID
        var titled = step
        titled.title = Self.title(step, scope: scope)
        if let when = step.when, !when.evaluate({ scope.lookup($0) }) {
            let r = StepResult(id: step.id, title: titled.title, kind: step.kind, status: .skipped,
                               message: "condition not met: \(when.source)", mutates: step.mutates)
            board.whenSkipped.insert(i)
            board.finishedQueue.append((i, r))
            return nil
        }
        if step.mutates {
            if lock == .pending {
                board.waitingForLock.append(i)
                return nil
            }
            if case let .refused(why) = lock {
                // A cleanup step that changes something never runs without the lock.
                let r = StepResult(id: step.id, title: titled.title, kind: step.kind, status: .skipped,
                                   message: "not started: \(why)", mutates: true)
                board.finishedQueue.append((i, r))
                return nil
            }
        }
        return Launch(index: i, step: titled, scope: scope)
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
