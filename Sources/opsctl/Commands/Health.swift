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
                Each URL: status code, JSON expectations, latency. The database: connect and version, SELECT 1 round trip, connections vs max_connections, longest transaction, lock waits, idle-in-transaction sessions, size. Every check is its own step with metrics.

                Examples:
                  opsctl health --url http://127.0.0.1:8080/api/health --expect status=healthy
                  opsctl health --env production --format nagios
                  opsctl health --no-database --url https://app.example.com/api/health --latency-crit 2s
                """)

        @Option(name: .long, help: "Endpoint to check (repeatable): a URL, or a path resolved against base_url. Default: the service.health endpoints of opsctl.yaml.")
        var url: [String] = []

        @Option(name: .long, help: "JSON field the response must have, as path=value (repeatable), e.g. status=healthy.")
        var expect: [String] = []

        @Option(name: .long, help: "Latency at or above which an endpoint warns (default: service.health's latency_warn, else 500ms).")
        var latencyWarn: String?

        @Option(name: .long, help: "Latency at or above which an endpoint fails (default: service.health's latency_crit, else 2s).")
        var latencyCrit: String?

        @Option(name: .long, help: "Env var holding the database URL (default: the environment's, usually DATABASE_URL).")
        var databaseURLEnv: String?

        @Flag(name: .long, help: "Skip the database checks.")
        var noDatabase = false

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            for e in expect where !e.contains("=") { throw ValidationError("--expect '\(e)' must be path=value, e.g. status=healthy") }
            for u in url where !u.hasPrefix("/") {
                guard let c = URLComponents(string: u), ["http", "https"].contains(c.scheme ?? ""), c.host != nil else {
                    throw ValidationError("--url '\(u)' is not an http(s) URL")
                }
            }
        }

        func run() throws {
            let service = RunService(global: global)
            let (_, env) = try service.environment()
            let endpoints = ServiceHealthDefaults(url: url, endpoints: env.service.health, baseURL: env.baseURL)
            let urls = try endpoints.urls()
            var expectations: [String: JSONValue] = url.isEmpty && expect.isEmpty ? endpoints.sharedExpectations : [:]
            for e in expect {
                let parts = e.split(separator: "=", maxSplits: 1).map(String.init)
                expectations[parts[0]] = .string(parts.count > 1 ? parts[1] : "")
            }
            let params: [String: JSONValue] = [
                "urls": .array(urls.map(JSONValue.string)), "expect": .object(expectations),
                "latency_warn": .string(latencyWarn ?? endpoints.shared(\.latencyWarn) ?? "500ms"),
                "latency_crit": .string(latencyCrit ?? endpoints.shared(\.latencyCrit) ?? "2s"),
                "database": .bool(!noDatabase), "database_url_env": .string(databaseURLEnv ?? env.databaseURLEnv),
            ]
            try service.run("health", params: params)
        }
    }
}
