import ArgumentParser
import Checks
import Foundation
import Runbooks

extension Opsctl {
    struct Health: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "health",
            abstract: "Check the service's health endpoints and its database (the shipped 'health' runbook).",
            discussion: """
                Each URL: status code, JSON expectations, latency. The database: the Postgres health catalog, one read-only step per check, each with warn/crit limits, the offending objects in its details and a remediation (runbooks/health.yaml; run your own copy with 'opsctl run' to change the limits).

                Database checks (step ids, for --checks):
                  database, connections, connection-states, long-transactions, lock-waits,
                  idle-in-transaction, database-size, deadlocks, xid-wraparound,
                  multixact-wraparound, table-bloat, index-bloat, dead-tuples, vacuum-age,
                  analyze-age, replication-lag, replication-slots, sequences,
                  invalid-indexes, unused-indexes, duplicate-indexes, cache-hit-tables,
                  cache-hit-indexes, top-queries, checkpoints, temp-files,
                  database-growth, table-growth

                Examples:
                  opsctl health --url http://127.0.0.1:8080/healthz --expect status=healthy
                  opsctl health --env production --format nagios
                  opsctl health --database-only
                  opsctl health --checks deadlocks,xid-wraparound,sequences --format json
                  opsctl health --no-database --url https://app.example.com/healthz --latency-crit 2s
                  opsctl health --no-database --url https://api.example.com/v1/app \
                      --header 'Authorization: Bearer $PARTNER_API_KEY' --header-warn 'X-RateLimit-Remaining<100'
                """)

        @Option(name: .long, help: "Endpoint to check (repeatable): a URL, or a path resolved against base_url. Default: the service.health endpoints of opsctl.yaml.")
        var url: [String] = []

        @Option(name: .long, help: "JSON field the response must have, as path=value (repeatable), e.g. status=healthy.")
        var expect: [String] = []

        @Option(name: .long, help: ArgumentHelp("Request header (repeatable), 'Name: value'; $VAR and ${VAR} are read from the environment by opsctl (quote with single quotes) and masked everywhere.", valueName: "header"))
        var header: [String] = []

        @Option(name: .long, help: ArgumentHelp("Warn when a numeric response header reaches a limit (repeatable): 'X-RateLimit-Remaining<100' (smaller is worse) or 'X-Queue-Depth>1000'.", valueName: "limit"))
        var headerWarn: [String] = []

        @Option(name: .long, help: ArgumentHelp("Fail when a numeric response header reaches a limit (repeatable), same form as --header-warn.", valueName: "limit"))
        var headerCrit: [String] = []

        @Option(name: .long, parsing: .unconditional, help: "Latency at or above which an endpoint warns (default: service.health's latency_warn, else 500ms).")
        var latencyWarn: String?

        @Option(name: .long, parsing: .unconditional, help: "Latency at or above which an endpoint fails (default: service.health's latency_crit, else 2s).")
        var latencyCrit: String?

        @Option(name: .long, help: "Env var holding the database URL (default: the environment's, usually DATABASE_URL).")
        var databaseURLEnv: String?

        @Flag(name: .long, help: "Skip the database checks.")
        var noDatabase = false

        @Flag(name: .long, help: "Run only the database checks (no endpoint).")
        var databaseOnly = false

        @Option(name: .long, help: ArgumentHelp("Run only these checks, by step id (comma-separated), e.g. deadlocks,sequences.", valueName: "ids"))
        var checks: String?

        @Option(name: .long, help: ArgumentHelp("LIKE pattern for the top-queries check, e.g. %whop%.", valueName: "pattern"))
        var queryFilter: String?

        @OptionGroup var global: GlobalOptions

        @OptionGroup var watch: WatchOptions

        func validate() throws {
            try FlagCheck.duration(latencyWarn, "--latency-warn")
            try FlagCheck.duration(latencyCrit, "--latency-crit")
            try HeaderFlags.validate(header, warn: headerWarn, crit: headerCrit)
            if databaseOnly && !(header + headerWarn + headerCrit).isEmpty { throw ValidationError("--header, --header-warn and --header-crit apply to endpoints; drop --database-only") }
            if noDatabase && databaseOnly { throw ValidationError("--no-database and --database-only exclude each other") }
            if noDatabase && checks != nil { throw ValidationError("--checks picks checks; drop --no-database") }
            if let checks, selected(checks).isEmpty { throw ValidationError("--checks needs at least one step id") }
            for e in expect where !e.contains("=") { throw ValidationError("--expect '\(e)' must be path=value, e.g. status=healthy") }
            for u in url where !u.hasPrefix("/") {
                guard let c = URLComponents(string: u), ["http", "https"].contains(c.scheme ?? ""), c.host != nil else {
                    throw ValidationError("--url '\(u)' is not an http(s) URL")
                }
            }
        }

        func run() throws {
            let service = RunService(global: global, watch: watch)
            let (config, env) = try service.environment()
            let endpoints = ServiceHealthDefaults(url: url, endpoints: env.service.health, baseURL: env.baseURL)
            var expectations: [String: JSONValue]?
            for e in expect {
                let parts = e.split(separator: "=", maxSplits: 1).map(String.init)
                expectations = (expectations ?? [:]).merging([parts[0]: .string(parts.count > 1 ? parts[1] : "")]) { $1 }
            }
            let checked = databaseOnly ? [] : try endpoints.endpointsParam(expect: expectations, latencyWarn: latencyWarn, latencyCrit: latencyCrit)
            var params: [String: JSONValue] = [
                "endpoints": .array(checked),
                // The profile's extra checks go with its declared endpoints, not with a --url of your choosing.
                "service_checks": .bool(url.isEmpty && !databaseOnly && env.baseURL != nil),
                "database": .bool(!noDatabase), "database_url_env": .string(databaseURLEnv ?? env.databaseURLEnv),
                "top_queries_filter": .string(queryFilter ?? ""),
            ]
            // Only when given: a user's own copy of the health runbook may predate these params.
            if !header.isEmpty { params["headers"] = .object(HeaderFlags.headers(header)) }
            if !(headerWarn + headerCrit).isEmpty { params["header_limits"] = .object(HeaderFlags.limits(warn: headerWarn, crit: headerCrit)) }
            var only: Set<String>?
            if databaseOnly || checks != nil {
                let steps = try service.load("health", params: params, config: config, env: env).steps
                if let checks {
                    let ids = steps.map(\.id)
                    let unknown = selected(checks).filter { !ids.contains($0) }
                    guard unknown.isEmpty else {
                        Terminal.error("unknown check(s) \(unknown.map { "'\($0)'" }.joined(separator: ", ")); valid ids: \(ids.joined(separator: ", "))")
                        throw ExitCode(64)
                    }
                    only = Set(selected(checks))
                } else {
                    only = Set(steps.filter { $0.kind.hasPrefix("postgres.") }.map(\.id))
                }
            }
            try service.run("health", params: params, only: only, verb: "health")
        }

        private func selected(_ list: String) -> [String] {
            list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }
}
