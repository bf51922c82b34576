import ArgumentParser
import Checks
import Foundation
import Postgres
import Runbooks
import Support

/// The one path every verb takes: config -> runbook -> executor -> report -> exit code.
/// Commands only translate their flags into a runbook name and params.
struct RunService {
    let global: GlobalOptions
    /// `--watch` and its stop conditions, for the verbs that offer it.
    var watch: WatchOptions? = nil

    /// Loads opsctl.yaml and the selected environment; invalid config exits 65.
    func environment() throws -> (Config, EnvironmentConfig) {
        do {
            let config = try Config.load(path: global.config)
            let env = try config.environment(global.env)
            registerSecrets(env)
            return (config, env)
        } catch let error as LoadError {
            Terminal.error(error.description)
            throw ExitCode(65)
        }
    }

    /// For verbs that run without an environment (`logs analyze`): the secrets the config names when
    /// it loads, and in any case every variable whose name says secret.
    func registerSecretsWithoutEnvironment() {
        if let config = try? Config.load(path: global.config), let env = try? config.environment(global.env) {
            registerSecrets(env)
        }
        for (name, value) in ProcessInfo.processInfo.environment where Self.looksSecret(name) {
            SecretMasker.shared.register(value)
        }
    }

    /// Values of declared secrets, and of variables whose names say they are secret, are masked everywhere.
    func registerSecrets(_ env: EnvironmentConfig) {
        let process = ProcessInfo.processInfo.environment
        let declared = Set(env.secrets + [env.webhookSecretEnv].compactMap { $0 })
        for (name, value) in process where declared.contains(name) || Self.looksSecret(name) {
            SecretMasker.shared.register(value)
        }
        for (name, value) in env.env where Self.looksSecret(name) { SecretMasker.shared.register(value) }
        // A database URL's password is masked whatever characters it holds, even before libpq parses it.
        SecretMasker.shared.registerPassword(inDSN: process[env.databaseURLEnv])
        for (name, value) in process where name.uppercased().hasSuffix("DATABASE_URL") || name.uppercased().hasSuffix("_DSN") {
            SecretMasker.shared.registerPassword(inDSN: value)
        }
    }

    /// Values of params whose names say secret (`*password*`, `*token*`, `*key*`, …) are masked everywhere.
    func registerSecretParams(_ values: [String: JSONValue]) {
        for (name, value) in values where SecretMasker.isSecretName(name) {
            SecretMasker.shared.register(value.string ?? value.jsonText)
        }
        for (_, value) in values { SecretMasker.shared.registerPassword(inDSN: value.string) }
    }

    static func looksSecret(_ name: String) -> Bool {
        let upper = name.uppercased()
        return ["SECRET", "TOKEN", "PASSWORD", "PASSWD", "API_KEY", "PRIVATE_KEY", "ENCRYPTION_KEY", "CREDENTIAL"]
            .contains { upper.contains($0) }
    }

    func library(_ config: Config, _ env: EnvironmentConfig) -> RunbookLibrary {
        RunbookLibrary.standard(config: config, environment: env)
    }

    /// Loads a runbook; a LoadError is printed with its location and exits 65. `verb`: the command that
    /// chose the params (`opsctl verify`), so a runbook that shadows the shipped one without declaring
    /// them is told which param and which verb, instead of an "unknown param" it never wrote.
    func load(_ nameOrPath: String, params: [String: JSONValue], config: Config, env: EnvironmentConfig, verb: String? = nil) throws -> Runbook {
        do {
            var loader = RunbookLoader(library: library(config, env))
            loader.config = env.json
            if let verb { try loader.checkVerbParams(nameOrPath, passed: params.keys.sorted(), verb: verb) }
            return try loader.load(nameOrPath, params: params)
        } catch let error as LoadError {
            Terminal.error(error.description)
            throw ExitCode(65)
        }
    }

    /// Opens the journal: the environment's database when reachable, else the JSONL file. The connection
    /// is made on a thread of its own while the caller goes on (loads the runbook, starts the run); its
    /// tables are made after the runbook lock is asked for (see ConnectingJournal, PostgresJournal).
    func journal(_ env: EnvironmentConfig, runbook: String) -> ConnectingJournal? {
        if global.noJournal { return nil }
        let dsn = ProcessInfo.processInfo.environment[env.databaseURLEnv]
        return ConnectingJournal {
            if let dsn, !dsn.isEmpty,
               let connection = try? PostgresConnection(dsn: dsn, applicationName: "opsctl/\(runbook)/journal", connectTimeout: 3) {
                return PostgresJournal(connectionForRun: connection)
            }
            return FileJournal()
        }
    }

    /// The runbook's name as far as it is known before loading it: `deploy` for `deploy.yaml` (the journal
    /// sets its session's application_name to the loaded runbook's own name when the run starts).
    static func runbookName(_ nameOrPath: String) -> String {
        let file = (nameOrPath as NSString).lastPathComponent
        for suffix in [".yaml", ".yml"] where file.hasSuffix(suffix) { return String(file.dropLast(suffix.count)) }
        return file
    }

    /// Runs one step of `kind` as its own runbook (verbs that are a single action, e.g. `webhook send`).
    func runStep(kind: String, id: String, title: String, with parameters: [String: JSONValue], runbook name: String? = nil) throws -> Never {
        let (config, env) = try environment()
        let runbook = Runbook.single(kind: kind, id: id, title: title, with: parameters,
                                     name: name ?? kind.replacingOccurrences(of: ".", with: "-"))
        try execute(runbook, env: env, params: [:], config: config)
    }

    /// Runs a runbook with the global flags and exits with the contract's code. `sessionsAhead`: database
    /// sessions its first step opens at once (replay: its own and the one creating the replay), opened
    /// now, while the runbook loads and the run starts, instead of when the step asks (see StepContext.connect).
    func run(_ nameOrPath: String, params: [String: JSONValue] = [:], only: Set<String>? = nil, from: String? = nil,
             resume: String? = nil, verb: String? = nil, sessionsAhead: Int = 0) throws -> Never {
        let (config, env) = try environment()
        PhaseClock.mark("config loaded")
        if sessionsAhead > 0, !global.dryRun, let dsn = ProcessInfo.processInfo.environment[env.databaseURLEnv], !dsn.isEmpty {
            let name = "opsctl/" + Self.runbookName(nameOrPath)
            PostgresSessionPool.openAhead(dsn, count: sessionsAhead) { try PostgresConnection(dsn: dsn, applicationName: name) }
        }
        // The journal's database connection is made while the runbook loads.
        let journal = self.journal(env, runbook: Self.runbookName(nameOrPath))
        var params = params
        if let resume, let previous = try? journal?.params(runID: resume) {
            // A resumed run runs with the params it was started with; ones given now win. The journal
            // keeps secrets only as ****: running with the placeholder would be wrong, so ask for them.
            let masked = previous.filter { name, value in
                params[name] == nil && value.jsonText.contains(SecretMasker.placeholder)
            }.keys.sorted()
            if !masked.isEmpty {
                Terminal.error("run \(resume) was started with \(masked.map { "'\($0)'" }.joined(separator: ", ")), which the journal keeps only masked (****); pass \(masked.map { "--param \($0)=VALUE" }.joined(separator: " ")) again with --resume")
                throw ExitCode(64)
            }
            params = previous.merging(params) { _, given in given }
        }
        let runbook = try load(nameOrPath, params: params, config: config, env: env, verb: verb)
        PhaseClock.mark("runbook loaded")
        registerSecretParams(runbook.values)
        try execute(runbook, env: env, params: params, only: only, from: from, resume: resume, journal: journal, config: config)
    }

    /// `journal`: the one `run` opened while loading the runbook (`.some(nil)` with --no-journal); by default
    /// opened here. `config`: the one `env` comes from (for `notify:`; nil: read again at the end).
    func execute(_ runbook: Runbook, env: EnvironmentConfig, params: [String: JSONValue], only: Set<String>? = nil,
                 from: String? = nil, resume: String? = nil, journal opened: ConnectingJournal?? = .none,
                 config: Config? = nil) throws -> Never {
        let format = try OutputFormat.parse(global.format)
        let writer = ReportWriter(output: global.output)
        do { try writer.validate() } catch {
            Terminal.error("\(error)")
            throw ExitCode(64)
        }
        let journal = opened ?? self.journal(env, runbook: runbook.name)
        var resumeFrom: (runID: String, results: [String: StepResult])?
        if let resume {
            guard let journal, let previous = try? journal.report(runID: resume) else {
                Terminal.error("no run \(resume) in the journal\(journal.map { " (\($0.location))" } ?? ""); see 'opsctl history'")
                throw ExitCode(65)
            }
            guard previous.runbook == runbook.name else {
                Terminal.error("run \(resume) was runbook '\(previous.runbook)', not '\(runbook.name)'")
                throw ExitCode(65)
            }
            resumeFrom = (resume, Dictionary(previous.results.map { ($0.id, $0) }, uniquingKeysWith: { $1 }))
        }
        let stderrTTY = Terminal.stderrIsTTY
        let deadline: Double? = global.deadline.flatMap { DurationText.seconds($0) }
        let lockWait: Double? = global.wait.flatMap { DurationText.seconds($0) }
        let actor: String = global.actor ?? RunOptions.defaultActor
        let progress: (@Sendable (String) -> Void)? = stderrTTY ? { @Sendable message in
            Terminal.note("  … " + SecretMasker.shared.mask(message))
        } : nil
        var options = RunOptions(environment: env, params: params)
        options.parallel = global.parallel
        options.dryRun = global.dryRun
        options.confirm = global.confirm
        options.only = only
        options.from = from
        options.resumeFrom = resumeFrom
        options.deadline = deadline
        options.lockWait = lockWait
        options.actor = actor
        options.insecure = global.insecure
        options.prompt = Terminal.prompt
        options.progress = progress
        try setBaselines(&options, runbook: runbook.name)
        let reporter = format.makeReporter(options: global.reporterOptions())
        if let plan = watch?.plan {
            try runWatch(plan, runbook: runbook, options: options, format: format, reporter: reporter, writer: writer, journal: journal)
        }
        let executor = Executor(runbook: runbook, options: options, reporter: reporter, sink: writer.sink, journal: journal)
        PhaseClock.mark("run starts")
        let signals = SignalTrap { executor.interrupt(reason: "interrupted by \($0)") }
        let report = executor.run()
        signals.cancel()
        PostgresSessionPool.closeOpenedAhead()
        PhaseClock.mark("run ended")
        notify(report, journal: journal, config: config)
        PhaseClock.mark("notified")
        do { try writer.finish() } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        if let aborted = report.aborted, format != .human { Terminal.error(SecretMasker.shared.mask(aborted)) }
        if format == .human, let journal, stderrTTY, !global.noJournal {
            Terminal.note("run \(report.runID) recorded in \(journal.location)")
        }
        PhaseClock.mark("report written")
        throw ExitCode(format.exitCode(for: report, strict: global.strict))
    }
}

/// SIGINT/SIGTERM -> cancel the run (always-steps still run, exit 2). A second SIGINT exits at once.
/// The cancel runs off the signal queue: cancelling reaches out to the server (PQcancel), and a second
/// Ctrl-C must still be seen while that is under way.
final class SignalTrap: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var count = 0

    init(_ handler: @escaping @Sendable (String) -> Void) {
        let queue = DispatchQueue(label: "opsctl.signals")
        for (sig, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            // The handler holds its source (to read `data`); cancel() breaks that cycle.
            source.setEventHandler { [weak self, source] in
                guard let self else { return }
                // Signals that arrive together are delivered once, with their number in `data`.
                let (before, n) = self.lock.withLock { () -> (Int, Int) in
                    let before = self.count
                    self.count += max(1, Int(source.data))
                    return (before, self.count)
                }
                if n > 1 && (sig == SIGINT || before > 0) {
                    if sig == SIGINT {
                        Terminal.note("\n\(name) again: exiting now")
                        // Nothing keeps running behind us; _exit: atexit handlers can wait on the step threads.
                        ProcessRunner.killAllChildren()
                        _exit(130)
                    }
                    return
                }
                Terminal.note("\n\(name): stopping after the statement or request in flight, running cleanup steps… (Ctrl-C again to exit at once)")
                DispatchQueue.global().async { handler(name) }
            }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() {
        sources.forEach {
            $0.cancel()
            $0.setEventHandler(handler: nil)
        }
    }
}
