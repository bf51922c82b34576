import ArgumentParser
import Checks
import Runbooks

extension Opsctl {
    struct Predeploy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "predeploy",
            abstract: "Is it safe to deploy? Environment variables, database, migrations and their lint, extensions, TLS.",
            discussion: """
                Exit 1 gates the deploy. In CI:
                  opsctl predeploy --env production --format junit --output predeploy.xml
                Environment rules come from env_rules in opsctl.yaml (defaults: the Churn Saver variables).
                """)

        @Option(name: .long, help: "Migration directory (default: the environment's migrations.dir).")
        var dir: String?

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let service = RunService(global: global)
            let (_, env) = try service.environment()
            try service.run("predeploy", params: MigrationParams.of(env, dir: dir).merging(env.predeployParams) { $1 }, verb: "predeploy")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Did the deploy work? Health endpoints, schema version, a signed test webhook round trip, 15-minute metrics, TLS.",
            discussion: """
                Independent checks run in parallel; every failure carries the next thing to do.
                  opsctl verify --env production
                  opsctl verify --env staging --format junit --output verify.xml
                  opsctl verify --no-roundtrip            # read-only: no synthetic test event
                """)

        @Option(name: .long, help: "Migration directory (default: the environment's migrations.dir).")
        var dir: String?

        @Flag(name: .long, help: "Skip the signed synthetic webhook round trip.")
        var noRoundtrip = false

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let service = RunService(global: global)
            let (_, env) = try service.environment()
            guard env.baseURL != nil else {
                Terminal.error("environment '\(env.name)' has no base_url: set it in opsctl.yaml so verify knows where the service is")
                throw ExitCode(64)
            }
            var params = MigrationParams.of(env, dir: dir)
            params["roundtrip"] = .bool(!noRoundtrip)
            try service.run("verify", params: params, verb: "verify")
        }
    }
}

/// The migration settings of an environment as runbook params.
enum MigrationParams {
    static func of(_ env: EnvironmentConfig, dir: String?) -> [String: JSONValue] {
        var params: [String: JSONValue] = ["dir": .string(dir ?? env.migrationsDir ?? "migrations")]
        if let pattern = env.migrationsDownPattern { params["down_pattern"] = .string(pattern) }
        if let table = env.migrationsTable { params["table"] = .string(table) }
        return params
    }
}

extension EnvironmentConfig {
    var predeployParams: [String: JSONValue] {
        var params: [String: JSONValue] = [:]
        // The environment's env_rules, else the service profile's (service.env_rules), else the runbook's default.
        if let rules = [envRules, service.envRules].first(where: { !$0.isEmpty }) { params["rules"] = .object(rules) }
        if !requiredExtensions.isEmpty { params["extensions"] = .array(requiredExtensions.map(JSONValue.string)) }
        return params
    }
}
