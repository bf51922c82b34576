import ArgumentParser
import Checks
import Foundation
import Runbooks

extension Opsctl {
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "doctor",
            abstract: "Check opsctl.yaml's service mapping against the live database and endpoints (read-only).",
            discussion: """
                The event table and every column service.events names exist, status values are ones the table's CHECK constraint allows, the provider's signing secret is set, and each service.health endpoint answers. Each problem says which key to change.

                Examples:
                  opsctl doctor
                  opsctl doctor --env staging --format json
                """)

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let service = RunService(global: global)
            let (_, env) = try service.environment()
            // A declared path without base_url cannot be reached: it is left out, as `opsctl health` does.
            let endpoints: [JSONValue] = try env.service.health.compactMap { endpoint in
                try ServiceHealthDefaults(url: [], endpoints: [endpoint], baseURL: env.baseURL).urls().first.map {
                    .object(["url": .string($0), "expect_status": .array(endpoint.expectStatus.map(JSONValue.int))])
                }
            }
            try service.run("doctor", params: ["endpoints": .array(endpoints), "database_url_env": .string(env.databaseURLEnv)], verb: "doctor")
        }
    }
}
