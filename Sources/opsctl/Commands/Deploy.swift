import ArgumentParser
import Checks
import Runbooks

extension Opsctl {
    struct Deploy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "deploy",
            abstract: "Record deploys: which release runs where, at which schema version, and whether verify passed.",
            subcommands: [Record.self])

        struct Record: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "record",
                abstract: "Record the release now running in the environment (opsctl.releases): release id, schema version, verify outcome.",
                discussion: """
                    The verify outcome is the journal's newest verify run of the environment since the previous release, \
                    or, with --verify, the outcome of a verify run made now. 'opsctl releases' lists the history and \
                    'opsctl rollback --mode full' goes back to the last release whose verify passed.
                      opsctl verify --env production && opsctl deploy record --release 2026.11.29-2 --env production
                      opsctl deploy record --verify --env production        # id from service.release.version_endpoint
                    """)

            @Option(name: .long, help: "Release id (default: read from service.release.version_endpoint).")
            var release: String?

            @Flag(name: .long, help: "Run verify now and record its outcome.")
            var verify = false

            @Option(name: .long, help: "Migration directory for --verify (default: the environment's).")
            var dir: String?

            @OptionGroup var global: GlobalOptions

            func validate() throws {
                if let release, release.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--release needs an id") }
            }

            func run() throws {
                let service = RunService(global: global)
                let (_, env) = try service.environment()
                if release == nil && env.service.release.versionEndpoint == nil {
                    Terminal.error("no release id: pass --release ID, or declare service.release.version_endpoint for '\(env.name)' in opsctl.yaml")
                    throw ExitCode(64)
                }
                var params: [String: JSONValue] = ["release": .string(release ?? "")]
                if let table = env.migrationsTable { params["table"] = .string(table) }
                if verify {
                    params["verify"] = .string(try Self.verifyOutcome(service, env: env, dir: dir))
                }
                try service.run("deploy-record", params: params, verb: "deploy record")
            }

            /// Runs verify (its report is printed as usual) and turns its exit code into the outcome recorded.
            static func verifyOutcome(_ service: RunService, env: EnvironmentConfig, dir: String?) throws -> String {
                var params = MigrationParams.of(env, dir: dir)
                params["roundtrip"] = .bool(true)
                do {
                    try service.run("verify", params: params, verb: "verify")
                } catch let code as ExitCode {
                    // Aborted (2) or bad input (64, 65): nothing was verified, nothing is recorded.
                    switch code.rawValue {
                    case 0: return "ok"
                    case 1: return "fail"
                    default: throw code
                    }
                }
            }
        }
    }
}
