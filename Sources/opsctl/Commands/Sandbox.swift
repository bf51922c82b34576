import ArgumentParser
import Foundation
import Postgres

extension Opsctl {
    struct SandboxCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sandbox",
            abstract: "A throwaway local Postgres (initdb + pg_ctl, unix socket) for demos, tests and rehearsals.",
            discussion: """
                Examples:
                  eval "$(opsctl sandbox up)"     # starts it and exports DATABASE_URL
                  opsctl sandbox status
                  opsctl sandbox down             # stops it and deletes its directory
                """)

        @Argument(help: "up, down, url or status.")
        var action: String

        @Option(name: .long, help: "Directory holding the cluster and its socket.")
        var dir: String = Sandbox.defaultDirectory

        @Option(name: .long, help: "Port (the socket name; with --tcp also 127.0.0.1:PORT).")
        var port: Int = Sandbox.defaultPort

        @Flag(name: .long, help: "Also listen on 127.0.0.1.")
        var tcp = false

        func validate() throws {
            guard ["up", "down", "url", "status"].contains(action) else {
                throw ValidationError("unknown sandbox action '\(action)': use up, down, url or status")
            }
            guard (1024...65535).contains(port) else { throw ValidationError("--port must be between 1024 and 65535") }
        }

        func run() throws {
            let sandbox = Sandbox(directory: dir, port: port, tcp: tcp)
            do {
                switch action {
                case "up":
                    let url = try sandbox.up()
                    print("export DATABASE_URL='\(url)'")
                case "down":
                    try sandbox.down()
                    Terminal.note("sandbox stopped and removed (\(dir))")
                case "url":
                    print(sandbox.url())
                default:
                    let state = sandbox.state
                    print("\(state.rawValue) \(dir) port \(port)")
                    if state != .running { throw ExitCode(1) }
                }
            } catch let error as Sandbox.Failure {
                Terminal.error(error.description)
                throw ExitCode(1)
            }
        }
    }
}
