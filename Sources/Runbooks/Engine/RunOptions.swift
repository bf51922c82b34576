import Checks
import Foundation

/// Everything about one run that is not the runbook itself.
public struct RunOptions: Sendable {
    public var environment: EnvironmentConfig
    public var params: [String: JSONValue]
    /// Steps running at once.
    public var parallel: Int
    public var dryRun: Bool
    /// `--confirm WORD`: must equal the environment name for protected environments.
    public var confirm: String?
    /// `--only a,b` / `--step a`: run just these (their needs are taken as satisfied).
    public var only: Set<String>?
    /// `--from id`: this step and every later step in file order.
    public var from: String?
    /// `--resume RUN_ID`: results of that run; steps that were ok there are not run again.
    public var resumeFrom: (runID: String, results: [String: StepResult])?
    /// Whole-run deadline in seconds.
    public var deadline: Double?
    /// Wait this long for the runbook lock instead of exiting 2 at once.
    public var lockWait: Double?
    public var actor: String
    public var insecure: Bool
    /// Asks the operator a question on the terminal; nil without a TTY.
    public var prompt: (@Sendable (String) -> String?)?
    public var progress: (@Sendable (String) -> Void)?
    /// The process environment (plus the config's `env:`) that steps see.
    public var processEnvironment: [String: String]
    /// `--baseline-env NAME`: steps with a baseline compare with that environment's database.
    public var baselineEnvironment: EnvironmentConfig?
    /// Journaled runs for `baseline: run:<id>` / `last-ok`.
    public var recordedRuns: RecordedRuns?

    public init(environment: EnvironmentConfig, params: [String: JSONValue] = [:], parallel: Int = 4, dryRun: Bool = false,
                confirm: String? = nil, only: Set<String>? = nil, from: String? = nil,
                resumeFrom: (runID: String, results: [String: StepResult])? = nil, deadline: Double? = nil,
                lockWait: Double? = nil, actor: String = RunOptions.defaultActor,
                insecure: Bool = false, prompt: (@Sendable (String) -> String?)? = nil,
                progress: (@Sendable (String) -> Void)? = nil,
                processEnvironment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        self.params = params
        self.parallel = max(1, parallel)
        self.dryRun = dryRun
        self.confirm = confirm
        self.only = only
        self.from = from
        self.resumeFrom = resumeFrom
        self.deadline = deadline
        self.lockWait = lockWait
        self.actor = actor
        self.insecure = insecure
        self.prompt = prompt
        self.progress = progress
        self.processEnvironment = processEnvironment
    }

    /// Who runs it when `--actor` is not given: $USER, $LOGNAME, else the account name (cron and
    /// containers often set neither variable).
    public static var defaultActor: String {
        let env = ProcessInfo.processInfo.environment
        return env["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? env["LOGNAME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSUserName()
    }

    /// Env vars steps see: the process environment overlaid with the config's `env:`.
    public var stepEnvironment: [String: String] {
        processEnvironment.merging(environment.env) { _, config in config }
    }
}
