import Checks
import Foundation
import Postgres
import Support

/// Runs one step (its `when:` already evaluated by the executor): dry-run, parameter interpolation, retries with backoff, timeout.
struct StepRunner: Sendable {
    let runbookName: String
    let options: RunOptions
    let runCancellation: Cancellation
    /// Serialises prompts from parallel steps.
    let promptLock: NSLock
    /// Stops the whole run (a refused confirmation aborts it: exit 2).
    let abort: @Sendable (String) -> Void
    /// Database sessions lent from step to step; closed when the run ends.
    let sessions = PostgresSessionPool()

    /// Grace after a timeout before a step that ignores cancellation is abandoned.
    static let abandonGrace: Double = 5

    func run(_ step: Step, scope outer: Scope) -> StepResult {
        let started = Date()
        EngineTrace.mark("start", step.id)
        var scope = outer
        if let item = step.item { scope.item = item }
        var result = StepResult(id: step.id, title: step.title, kind: step.kind, status: .ok, message: "",
                                startedAt: started, mutates: step.mutates)
        func finish(_ status: StepStatus, _ message: String, details: [String: JSONValue] = [:], metrics: [Metric] = [],
                    attempts: Int = 1) -> StepResult {
            result.status = status
            result.message = message
            result.details = details
            result.metrics = metrics
            result.attempts = attempts
            result.durationMs = Date().timeIntervalSince(started) * 1000
            EngineTrace.mark("end", step.id)
            if status != .ok && status != .skipped, let remediation = step.remediation {
                result.remediation = (try? Interpolation.resolve(remediation, in: scope).string) ?? remediation
            }
            return result
        }
        // `when:` is evaluated by the executor: a step it skips blocks its dependents.
        if let previous = options.resumeFrom, let old = previous.results[step.id], old.status == .ok {
            var r = finish(.skipped, "ok in run \(previous.runID)", details: old.details, metrics: old.metrics)
            r.details["resumed_from"] = .string(previous.runID)
            return r
        }
        if runCancellation.isCancelled && !step.always {
            return finish(.skipped, "not started: \(runCancellation.reason ?? "run stopped")")
        }
        let parameters: [String: JSONValue]
        do {
            // `key: ${params.x}` with an optional param that has no value passes nothing: the kind's default applies.
            let given = step.with.filter { _, value in
                guard case let .string(text) = value, text.hasPrefix("${params."), text.hasSuffix("}"),
                      Interpolation.references(in: text).count == 1 else { return true }
                let name = String(text.dropFirst("${params.".count).dropLast())
                return name.contains(":-") || scope.params[name] != nil
            }
            // Parameters that are code (SQL, command lines) get their references bound, never pasted in.
            let code = StepRegistry.kind(named: step.kind)?.parameters.filter { $0.code != nil } ?? []
            let plain = given.filter { key, _ in !code.contains { $0.name == key } }
            // Resolving a mapping always yields a mapping; say so rather than trap if that ever changes.
            guard case var .object(resolved) = try Interpolation.resolve(.object(plain), in: scope) else {
                return finish(.error, "parameters did not resolve to a mapping")
            }
            try CodeBinding.bind(code, of: step.with, into: &resolved, scope: scope)
            parameters = resolved
        } catch {
            return finish(.error, "cannot resolve parameters: \(error)")
        }
        if step.confirm && !options.dryRun {
            if let refusal = confirmStep(step) {
                abort("confirmation refused for step '\(step.id)': \(refusal)")
                return finish(.skipped, refusal)
            }
        }
        if let included = step.included {
            return runIncluded(step, included) { finish($0, $1, details: $2, metrics: $3, attempts: $4) }
        }
        guard let kindType = StepRegistry.kind(named: step.kind) else { return finish(.error, "unknown kind '\(step.kind)'") }
        let kind: any StepKind
        do {
            kind = try kindType.init(StepParameters(parameters, stepID: step.id))
        } catch {
            return finish(.error, "\(error)")
        }
        var baseContext = StepContext(
            environment: options.stepEnvironment, databaseURLVariable: options.environment.databaseURLEnv,
            baseURL: options.environment.baseURL, applicationName: "opsctl/\(runbookName)/\(step.id)",
            dryRun: options.dryRun, insecure: options.insecure, confirmation: options.confirm,
            prompt: options.prompt, progress: options.progress)
        baseContext.webhookScheme = options.environment.webhookScheme
        baseContext.webhookSecretVariable = options.environment.webhookSecretEnv
        baseContext.webhookPath = options.environment.webhookPath
        baseContext.service = options.environment.service
        baseContext.runID = scope.runID.isEmpty ? nil : scope.runID
        baseContext.resumedRunID = options.resumeFrom?.runID
        baseContext.baseDirectory = options.environment.directory
        baseContext.sessions = sessions
        if let database = step.database {
            do { try Self.point(&baseContext, at: database, scope: scope) } catch { return finish(.error, "\(error)") }
        }
        baseContext.baselineEnvironment = options.baselineEnvironment.map { ($0.name, $0.databaseURLEnv) }
        if let runs = options.recordedRuns { baseContext.recordedRun = { @Sendable selector in try runs.lookup(selector) } }
        if options.dryRun && kind.isMutating {
            // A dry-run fails where the real run would (missing table, statement refused in a transaction, no secret).
            let plan: String
            do { plan = SecretMasker.shared.mask(try kind.plan(baseContext)) } catch {
                let reason = error as? StepError
                var details = reason?.details ?? [:]
                details["dry_run"] = .bool(true)
                return finish(.error, "dry-run: the real run would fail: " + SecretMasker.shared.mask(reason?.message ?? "\(error)"),
                              details: details)
            }
            // One line for the report; the whole plan (SQL, EXPLAIN, commands) goes into details.
            let firstLine = plan.split(separator: "\n").first.map(String.init) ?? plan
            return finish(.skipped, "dry-run: " + firstLine, details: ["dry_run": .bool(true), "plan": .string(plan)])
        }

        var attempt = 0
        var delay = step.retry.delay
        var last = StepOutcome(.error, "not run")
        while true {
            attempt += 1
            last = runAttempt(kind, step: step, context: baseContext)
            let done: Bool
            if let until = step.retry.until {
                done = until.evaluate { path in Self.attemptLookup(path, last) ?? scope.lookup(path) }
            } else {
                done = !last.status.isFailure
            }
            if done || attempt >= step.retry.attempts || runCancellation.isCancelled { break }
            options.progress?("\(step.id): attempt \(attempt) \(last.status.rawValue) (\(last.message)); retrying in \(DurationText.format(milliseconds: delay * 1000))")
            if !sleep(delay) { break }
            delay *= step.retry.backoff
        }
        if step.retry.until != nil && attempt >= step.retry.attempts && !last.status.isFailure,
           let until = step.retry.until, !until.evaluate({ Self.attemptLookup($0, last) ?? scope.lookup($0) }) {
            last = StepOutcome(.fail, "until '\(until.source)' still false after \(attempt) attempts: \(last.message)",
                               details: last.details, metrics: last.metrics)
        }
        var message = last.message
        if attempt > 1 && !last.status.isFailure { message += " (passed after \(attempt) attempts)" }
        return finish(last.status, message, details: last.details, metrics: last.metrics, attempts: attempt)
    }

    static func attemptLookup(_ path: String, _ outcome: StepOutcome) -> JSONValue? {
        switch path {
        case "status": return .string(outcome.status.rawValue)
        case "message": return .string(outcome.message)
        default:
            if path.hasPrefix("details.") { return JSONValue.object(outcome.details).at(path: String(path.dropFirst(8))) }
            if path.hasPrefix("metrics.") { return outcome.metrics.first { $0.name == path.dropFirst(8) }.map { .double($0.value) } }
            return nil
        }
    }

    /// One attempt on its own thread so a timeout can cancel it and, if it ignores that, abandon it.
    func runAttempt(_ kind: any StepKind, step: Step, context base: StepContext) -> StepOutcome {
        let cancellation = Cancellation()
        var attemptContext = base
        attemptContext.cancellation = cancellation
        let context = attemptContext
        // Cleanup (always) steps must still run after an interrupt; only their own timeout stops them.
        if !step.always {
            runCancellation.onCancel { cancellation.cancel(reason: runCancellation.reason ?? "run stopped") }
        }
        @Sendable func attempt() -> StepOutcome {
            do { return try kind.run(context) } catch let error as StepError {
                return StepOutcome(.error, error.message, details: error.details)
            } catch {
                return StepOutcome(.error, "\(error)")
            }
        }
        let box = OutcomeBox()
        let done = DispatchSemaphore(value: 0)
        if step.timeout == nil {
            // Nothing to abandon it for: run on the step's own thread (a thread less per step).
            box.set(attempt())
            done.signal()
        } else {
            let thread = Thread {
                box.set(attempt())
                done.signal()
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
        if let timeout = step.timeout {
            if done.wait(timeout: .now() + timeout) == .timedOut {
                cancellation.cancel(reason: "timed out after \(DurationText.format(milliseconds: timeout * 1000))")
                if done.wait(timeout: .now() + Self.abandonGrace) == .timedOut {
                    return StepOutcome(.error, "timed out after \(DurationText.format(milliseconds: timeout * 1000)) and did not stop within \(Int(Self.abandonGrace)) s; abandoned")
                }
                let partial = box.get()
                return StepOutcome(.error, "timed out after \(DurationText.format(milliseconds: timeout * 1000))",
                                   details: partial?.details ?? [:], metrics: partial?.metrics ?? [])
            }
        } else {
            done.wait()
        }
        let outcome = box.get() ?? StepOutcome(.error, "step produced no result")
        if cancellation.isCancelled, let reason = cancellation.reason, outcome.status != .ok {
            // Keep what the step says it did before stopping (e.g. which migrations were applied).
            let said = outcome.message.contains(reason) ? outcome.message
                : reason + (outcome.message.isEmpty ? "" : " — \(outcome.message)")
            return StepOutcome(.error, "stopped: \(said)", details: outcome.details, metrics: outcome.metrics)
        }
        return outcome
    }

    /// Sleeps unless the run is cancelled; false when cancelled.
    func sleep(_ seconds: Double) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if runCancellation.isCancelled { return false }
            Thread.sleep(forTimeInterval: min(0.05, max(0, end.timeIntervalSinceNow)))
        }
        return !runCancellation.isCancelled
    }

    func confirmStep(_ step: Step) -> String? {
        let word = options.environment.protected ? options.environment.name : "yes"
        if options.confirm == word { return nil }
        guard let prompt = options.prompt else {
            return "step '\(step.id)' needs confirmation and there is no terminal: pass --confirm \(word)"
        }
        let answer = promptLock.withLock { prompt("Step '\(step.title)' is about to run. Type '\(word)' to continue: ") }
        return answer?.trimmingCharacters(in: .whitespacesAndNewlines) == word ? nil : "not confirmed"
    }

    func runIncluded(_ step: Step, _ included: IncludedRunbook,
                     finish: (StepStatus, String, [String: JSONValue], [Metric], Int) -> StepResult) -> StepResult {
        var childOptions = options
        childOptions.params = included.runbook.values
        childOptions.only = nil
        childOptions.from = nil
        childOptions.resumeFrom = nil
        let executor = Executor(runbook: included.runbook, options: childOptions, reporter: nil, journal: nil,
                                cancellation: runCancellation, preflightDone: true)
        let report = executor.run()
        let status = report.status
        let counts = StepStatus.allCases.compactMap { s -> String? in
            let n = report.count(s)
            return n > 0 ? "\(n) \(s.rawValue)" : nil
        }.joined(separator: ", ")
        let failing = report.results.filter { $0.status.isFailure }.map { "\($0.id): \($0.message)" }
        let message = "runbook \(included.runbook.name): \(counts)" + (failing.isEmpty ? "" : " — " + failing.joined(separator: "; "))
        let children: [JSONValue] = report.results.map { r in
            .object(["id": .string(r.id), "status": .string(r.status.rawValue), "message": .string(r.message)])
        }
        return finish(status, message, ["steps": .array(children), "runbook": .string(included.runbook.name)],
                      report.results.flatMap { r in r.metrics.map { var m = $0; m.name = "\(r.id).\(m.name)"; return m } }, 1)
    }
}

final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: StepOutcome?
    func set(_ v: StepOutcome) { lock.withLock { value = v } }
    func get() -> StepOutcome? { lock.withLock { value } }
}
