import Foundation
import Postgres
import Support

/// Everything a step may use besides its parameters.
public struct StepContext: Sendable {
    /// Variables visible to the step: process env overlaid with the environment's `env:`.
    public var environment: [String: String]
    /// Name of the env var holding the database URL for this environment.
    public var databaseURLVariable: String
    /// Base URL of the service in this environment, when configured.
    public var baseURL: String?
    /// `opsctl/<runbook>/<step>`: application_name and User-Agent suffix.
    public var applicationName: String
    public var cancellation: Cancellation
    public var dryRun: Bool
    /// Allow TLS without verification (explicit `--insecure`).
    public var insecure: Bool
    /// How the service verifies webhooks in this environment: `whop`, `standard` or `stripe`.
    public var webhookScheme: String = "whop"
    /// Env var holding the webhook signing secret.
    public var webhookSecretVariable: String?
    /// Path of the service's webhook intake, relative to `baseURL`.
    public var webhookPath: String = "/"
    /// The service as opsctl.yaml's `service:` block (or its profile) declares it: event store, health, provider.
    public var service = ServiceMapping()
    /// The word given with `--confirm`, accepted by confirmation gates.
    public var confirmation: String?
    /// Asks the operator to type a word; nil when there is no terminal.
    public var prompt: (@Sendable (String) -> String?)?
    /// Reports progress of long steps (stderr on a TTY only).
    public var progress: (@Sendable (String) -> Void)?
    /// The journaled run this step belongs to, when there is one.
    public var runID: String?
    /// With `opsctl run --resume RUN_ID`: the run being resumed, so a step can continue its own work
    /// (a replay continues the replay that run started instead of starting another).
    public var resumedRunID: String?
    /// Where relative file paths of a step resolve from: the directory of opsctl.yaml (nil: the working directory).
    public var baseDirectory: String?
    /// `--baseline-env NAME`: that environment's name and database URL variable; steps comparing with a
    /// baseline run their query there instead (canary vs stable).
    public var baselineEnvironment: (name: String, databaseURLVariable: String)?
    /// Reads a journaled run of this runbook and environment (`run:<id>` or `last-ok`) for `baseline:`.
    public var recordedRun: (@Sendable (_ selector: BaselineSource) throws -> RecordedRun?)?
    /// Database sessions the steps of the run share (the migrate runbook's four steps use one backend).
    public var sessions: PostgresSessionPool?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                databaseURLVariable: String = "DATABASE_URL", baseURL: String? = nil,
                applicationName: String = "opsctl", cancellation: Cancellation = Cancellation(),
                dryRun: Bool = false, insecure: Bool = false, confirmation: String? = nil,
                prompt: (@Sendable (String) -> String?)? = nil, progress: (@Sendable (String) -> Void)? = nil) {
        self.environment = environment
        self.databaseURLVariable = databaseURLVariable
        self.baseURL = baseURL
        self.applicationName = applicationName
        self.cancellation = cancellation
        self.dryRun = dryRun
        self.insecure = insecure
        self.confirmation = confirmation
        self.prompt = prompt
        self.progress = progress
    }
}
