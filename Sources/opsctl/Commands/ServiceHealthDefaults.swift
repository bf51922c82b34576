import ArgumentParser
import Checks
import Foundation

/// Which endpoints `opsctl health` checks: the `--url`s given (paths resolve against base_url), or
/// the service's declared `service.health` endpoints, each with its own expectations and limits.
struct ServiceHealthDefaults {
    var url: [String]
    var endpoints: [ServiceMapping.HealthEndpoint]
    var baseURL: String?

    /// A path made absolute against base_url; nil for a declared path without base_url (skipped, as
    /// before), a usage error for a path the operator typed.
    func resolve(_ path: String) throws -> String? {
        guard path.hasPrefix("/") else { return path }
        guard let base = baseURL else {
            if url.isEmpty { return nil }
            throw ValidationError("--url '\(path)' is a path but the environment has no base_url: set base_url in opsctl.yaml or give a full URL")
        }
        return base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path
    }

    func urls() throws -> [String] {
        try (url.isEmpty ? endpoints.map(\.path) : url).compactMap { try resolve($0) }
    }

    /// The health runbook's `endpoints`: one object per endpoint with its own expect_status, expect and
    /// latency limits (service.health); flags given on the command line apply to every endpoint.
    func endpointsParam(expect flags: [String: JSONValue]?, latencyWarn: String?, latencyCrit: String?) throws -> [JSONValue] {
        let checked = url.isEmpty ? endpoints : url.map { ServiceMapping.HealthEndpoint(path: $0) }
        return try checked.compactMap { endpoint -> JSONValue? in
            guard let full = try resolve(endpoint.path) else { return nil }
            var o: [String: JSONValue] = ["url": .string(full), "path": .string(endpoint.path),
                                          "expect_status": .array(endpoint.expectStatus.map(JSONValue.int)),
                                          "expect": .object(flags ?? endpoint.expect)]
            if let w = latencyWarn ?? endpoint.latencyWarn { o["latency_warn"] = .string(w) }
            if let c = latencyCrit ?? endpoint.latencyCrit { o["latency_crit"] = .string(c) }
            return .object(o)
        }
    }
}
