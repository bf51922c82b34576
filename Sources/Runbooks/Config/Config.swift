import Checks
import Foundation

/// One deployment target from opsctl.yaml. Secrets are never values here: only env var names.
public struct EnvironmentConfig: Sendable {
    public var name: String
    public var baseURL: String?
    /// Name of the env var holding the database URL.
    public var databaseURLEnv: String
    /// Mutating steps need typed confirmation (`--confirm NAME`).
    public var protected: Bool
    public var webhookScheme: String
    public var webhookSecretEnv: String?
    public var webhookPath: String
    public var migrationsDir: String?
    public var migrationsDownPattern: String?
    public var migrationsTable: String?
    public var runbooksDir: String?
    /// Env var names whose values are masked everywhere.
    public var secrets: [String]
    /// Extra variables visible to steps as ${env.X}.
    public var env: [String: String]
    public var thresholds: [String: JSONValue]
    /// Application-only rollback (e.g. `vercel rollback`, `kubectl rollout undo deploy/app`).
    public var rollbackCommand: String?
    /// Rules for `opsctl predeploy`'s environment validation (see the env.validate kind).
    public var envRules: [String: JSONValue] = [:]
    /// Postgres extensions the schema needs.
    public var requiredExtensions: [String] = []
    /// The directory of opsctl.yaml: relative paths in steps (log files) resolve from it, as migrations.dir does.
    public var directory: String?
    /// The service's event store, health endpoints and provider (`service:`, see ServiceConfig).
    /// Until opsctl.yaml says otherwise: the default profile (today's reference service).
    public var service = ServiceConfig.defaultMapping
    /// Where backups go and how many are kept (`backups:`, see BackupConfig).
    public var backups: JSONValue = BackupConfig.resolve(shared: nil, environment: nil, directory: nil)

    public init(name: String, baseURL: String? = nil, databaseURLEnv: String = "DATABASE_URL", protected: Bool = false,
                webhookScheme: String = "whop", webhookSecretEnv: String? = nil, webhookPath: String? = nil,
                migrationsDir: String? = nil, migrationsDownPattern: String? = nil, migrationsTable: String? = nil,
                runbooksDir: String? = nil, secrets: [String] = [], env: [String: String] = [:],
                thresholds: [String: JSONValue] = [:], rollbackCommand: String? = nil) {
        self.name = name
        self.baseURL = baseURL
        self.databaseURLEnv = databaseURLEnv
        self.protected = protected
        self.webhookScheme = webhookScheme
        // Unless given: the default profile's provider, as `service` starts from it.
        self.webhookSecretEnv = webhookSecretEnv ?? ServiceConfig.defaultMapping.provider?.secretEnv
        self.webhookPath = webhookPath ?? ServiceConfig.defaultMapping.provider?.webhookPath ?? "/"
        self.migrationsDir = migrationsDir
        self.migrationsDownPattern = migrationsDownPattern
        self.migrationsTable = migrationsTable
        self.runbooksDir = runbooksDir
        self.secrets = secrets
        self.env = env
        self.thresholds = thresholds
        self.rollbackCommand = rollbackCommand
    }

    /// The environment as `${config.*}` sees it.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "name": .string(name), "database_url_env": .string(databaseURLEnv), "protected": .bool(protected),
            "webhook": .object(["scheme": .string(webhookScheme), "path": .string(webhookPath),
                                "secret_env": webhookSecretEnv.map(JSONValue.string) ?? .null]),
            "thresholds": .object(thresholds),
        ]
        if let baseURL { o["base_url"] = .string(baseURL) }
        if let migrationsDir { o["migrations"] = .object(["dir": .string(migrationsDir)]) }
        if let rollbackCommand { o["rollback_command"] = .string(rollbackCommand) }
        if !envRules.isEmpty { o["env_rules"] = .object(envRules) }
        o["required_extensions"] = .array(requiredExtensions.map(JSONValue.string))
        o["service"] = service.json
        o["backups"] = backups
        return .object(o)
    }
}

/// opsctl.yaml: environments and defaults. Found upward from the working directory, or `--config`.
public struct Config: Sendable {
    public var file: String?
    public var defaultEnvironment: String
    public var environments: [String: EnvironmentConfig]
    public var runbooksDir: String?
    /// Where run transitions are sent (`notify:`, see NotifyConfig).
    public var notify = NotifyConfig()

    /// No file: one unprotected `local` environment reading DATABASE_URL.
    public static var builtin: Config {
        var local = EnvironmentConfig(name: "local")
        local.apply(ServiceConfig.defaultMapping, explicitWebhook: [:])
        return Config(file: nil, defaultEnvironment: "local", environments: ["local": local], runbooksDir: nil)
    }

    public func environment(_ name: String?) throws -> EnvironmentConfig {
        let wanted = name ?? defaultEnvironment
        if let env = environments[wanted] { return env }
        let known = environments.keys.sorted()
        throw LoadError(file: file ?? "opsctl.yaml", message: "unknown environment '\(wanted)'\(closest(to: wanted, in: known).map { ", did you mean '\($0)'?" } ?? "")",
                        hint: "environments: \(known.joined(separator: ", "))")
    }

    /// Walks up from `directory` to find opsctl.yaml.
    public static func find(from directory: String = FileManager.default.currentDirectoryPath) -> String? {
        var url = URL(fileURLWithPath: directory)
        while true {
            for name in ["opsctl.yaml", "opsctl.yml"] {
                let candidate = url.appendingPathComponent(name).path
                if FileManager.default.fileExists(atPath: candidate) { return candidate }
            }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { return nil }
            url = parent
        }
    }

    public static func load(path explicit: String?, from directory: String = FileManager.default.currentDirectoryPath) throws -> Config {
        guard let path = explicit ?? find(from: directory) else { return .builtin }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(file: path, message: "cannot read the config file", hint: "check the path given to --config")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw LoadError(file: path, message: "not UTF-8 text") }
        return try parse(text, file: path)
    }

    static let topKeys = ["default_environment", "environments", "runbooks_dir", "service", "notify", "backups"]
    static let envKeys = ["base_url", "database_url_env", "protected", "webhook", "migrations", "runbooks_dir",
                          "secrets", "env", "thresholds", "rollback_command", "env_rules", "required_extensions", "service", "backups"]

    public static func parse(_ text: String, file: String) throws -> Config {
        let doc = try YAMLDocument.parse(text, file: file)
        func fail(_ n: YAMLValue, _ message: String, _ hint: String? = nil) -> LoadError {
            LoadError(file: file, line: n.position.line, column: n.position.column, message: message, hint: hint)
        }
        guard case let .mapping(top, _) = doc else { throw fail(doc, "opsctl.yaml must be a mapping with 'environments'") }
        for entry in top where !topKeys.contains(entry.key) {
            throw LoadError(file: file, line: entry.keyPosition.line, column: entry.keyPosition.column,
                            message: "unknown key '\(entry.key)'\(closest(to: entry.key, in: topKeys).map { ", did you mean '\($0)'?" } ?? "")")
        }
        guard let envsNode = doc.value("environments"), case let .mapping(envPairs, _) = envsNode, !envPairs.isEmpty else {
            throw fail(doc, "opsctl.yaml needs an 'environments' mapping with at least one environment")
        }
        let configDir = URL(fileURLWithPath: file).deletingLastPathComponent().path
        func relative(_ p: String?) -> String? {
            guard let p else { return nil }
            return p.hasPrefix("/") ? p : configDir + "/" + p
        }
        let values = StrictValues(file: file)
        var environments: [String: EnvironmentConfig] = [:]
        let sharedService = try doc.value("service").map { try ServiceConfig.check($0, file: file, in: "") }
        let sharedBackups = try doc.value("backups").map { try BackupConfig.check($0, "backups", values, directory: configDir) }
        for pair in envPairs {
            let node = pair.value
            guard case let .mapping(keys, _) = node else { throw fail(node, "environment '\(pair.key)' must be a mapping") }
            for key in keys where !envKeys.contains(key.key) {
                throw LoadError(file: file, line: key.keyPosition.line, column: key.keyPosition.column,
                                message: "unknown key '\(key.key)' in environment '\(pair.key)'\(closest(to: key.key, in: envKeys).map { ", did you mean '\($0)'?" } ?? "")")
            }
            // Every value is read by type: a wrong one (protected: enabled) is an error here, never a default.
            func read<T>(_ key: String, _ reader: (YAMLValue, String) throws -> T) throws -> T? {
                try node.value(key).map { try reader($0, "environments.\(pair.key).\(key)") }
            }
            var env = EnvironmentConfig(name: pair.key)
            if let url = try read("base_url", values.text) {
                guard URLComponents(string: url)?.host != nil else {
                    throw fail(node.value("base_url")!, "base_url '\(url)' is not a URL like https://host[:port]")
                }
                env.baseURL = url
            }
            if let variable = try read("database_url_env", values.text) {
                if variable.contains("://") {
                    throw fail(node.value("database_url_env")!, "database_url_env names an environment variable, not the URL itself",
                               "write database_url_env: DATABASE_URL and export the URL in that variable")
                }
                env.databaseURLEnv = variable
            }
            env.protected = try read("protected", values.bool) ?? false
            if let webhook = node.value("webhook") {
                let what = "environments.\(pair.key).webhook"
                _ = try values.mapping(webhook, what, keys: ["scheme", "secret_env", "path"])
                env.webhookScheme = try webhook.value("scheme").map { try values.oneOf($0, "\(what).scheme", ServiceMapping.Provider.schemeNames) } ?? "whop"
                env.webhookSecretEnv = try webhook.value("secret_env").map { try values.text($0, "\(what).secret_env") }
                env.webhookPath = try webhook.value("path").map { try values.text($0, "\(what).path") } ?? env.webhookPath
            }
            if let migrations = node.value("migrations") {
                let what = "environments.\(pair.key).migrations"
                _ = try values.mapping(migrations, what, keys: ["dir", "down_pattern", "table"])
                env.migrationsDir = relative(try migrations.value("dir").map { try values.text($0, "\(what).dir") })
                env.migrationsDownPattern = try migrations.value("down_pattern").map { try values.text($0, "\(what).down_pattern") }
                env.migrationsTable = try migrations.value("table").map { try values.text($0, "\(what).table") }
            }
            env.runbooksDir = relative(try read("runbooks_dir", values.text))
            env.secrets = try read("secrets", values.textList) ?? []
            env.env = try read("env", values.textMap) ?? [:]
            if let thresholds = node.value("thresholds") {
                for entry in try values.mapping(thresholds, "environments.\(pair.key).thresholds") {
                    guard case .scalar = entry.value else {
                        throw values.fail(entry.value, "threshold '\(entry.key)' must be a number or a duration, got \(entry.value.kindName)")
                    }
                    env.thresholds[entry.key] = entry.value.json
                }
            }
            env.rollbackCommand = try read("rollback_command", values.text)
            if let rules = node.value("env_rules") { env.envRules = try envRules(rules, "environments.\(pair.key).env_rules", values) }
            env.requiredExtensions = try read("required_extensions", values.textList) ?? []
            env.directory = configDir
            let ownService = try node.value("service").map { try ServiceConfig.check($0, file: file, in: "environments.\(pair.key).") }
            let service = try ServiceConfig.resolve(shared: sharedService, environment: ownService, file: file,
                                                    node: node.value("service") ?? doc.value("service") ?? node)
            env.apply(service, explicitWebhook: node.value("webhook")?.json.object ?? [:])
            let ownBackups = try node.value("backups").map { try BackupConfig.check($0, "environments.\(pair.key).backups", values, directory: configDir) }
            env.backups = BackupConfig.resolve(shared: sharedBackups, environment: ownBackups, directory: configDir)
            environments[pair.key] = env
        }
        let defaultNode = doc.value("default_environment")
        let defaultName = try defaultNode.map { try values.text($0, "default_environment") }
            ?? (environments["local"] != nil ? "local" : envPairs[0].key)
        guard environments[defaultName] != nil else {
            throw fail(defaultNode!, "default_environment '\(defaultName)' is not defined under environments",
                       "environments: \(environments.keys.sorted().joined(separator: ", "))")
        }
        let runbooksDir = relative(try doc.value("runbooks_dir").map { try values.text($0, "runbooks_dir") })
        var config = Config(file: file, defaultEnvironment: defaultName, environments: environments, runbooksDir: runbooksDir)
        config.notify = try doc.value("notify").map { try NotifyConfig.parse($0, file: file) } ?? NotifyConfig()
        return config
    }

    /// The env.validate rules, typed here so a wrong one names its line (`min_length: sixteen`).
    static func envRules(_ node: YAMLValue, _ what: String, _ values: StrictValues) throws -> [String: JSONValue] {
        let flags = ["required", "not_placeholder", "url"]
        let counts = ["min_length", "base64_bytes"]
        let bounds = ["int_min", "int_max"]
        let texts = ["pattern", "equals"]
        let lists = ["scheme", "one_of"]
        var out: [String: JSONValue] = [:]
        for variable in try values.mapping(node, what) {
            let ruleWhat = "\(what).\(variable.key)"
            for rule in try values.mapping(variable.value, ruleWhat, keys: flags + counts + bounds + texts + lists) {
                let key = "\(ruleWhat).\(rule.key)"
                if flags.contains(rule.key) { _ = try values.bool(rule.value, key) }
                if counts.contains(rule.key) { _ = try values.int(rule.value, key, in: 0...1_000_000) }
                if bounds.contains(rule.key) { _ = try values.int(rule.value, key, in: Int.min...Int.max) }
                if texts.contains(rule.key) { _ = try values.text(rule.value, key) }
                if lists.contains(rule.key), rule.value.string == nil { _ = try values.textList(rule.value, key) }
            }
            out[variable.key] = variable.value.json
        }
        return out
    }
}

extension EnvironmentConfig {
    /// Takes the service mapping; its provider fills the webhook settings the environment's `webhook:`
    /// (kept as an alias) does not set itself.
    mutating func apply(_ service: ServiceMapping, explicitWebhook: [String: JSONValue]) {
        self.service = service
        guard let provider = service.provider else { return }
        if explicitWebhook["scheme"] == nil, let scheme = provider.scheme { webhookScheme = scheme }
        if explicitWebhook["secret_env"] == nil, let secret = provider.secretEnv { webhookSecretEnv = secret }
        if explicitWebhook["path"] == nil, let path = provider.webhookPath { webhookPath = path }
    }
}
