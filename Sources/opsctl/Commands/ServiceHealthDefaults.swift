import ArgumentParser
import Checks
import Foundation

/// Which endpoints `opsctl health` checks: the `--url`s given (paths resolve against base_url), or
/// the service's declared `service.health` endpoints.
struct ServiceHealthDefaults {
    var url: [String]
    var endpoints: [ServiceMapping.HealthEndpoint]
    var baseURL: String?

    func urls() throws -> [String] {
        let wanted = url.isEmpty ? endpoints.map(\.path) : url
        return try wanted.map { path in
            guard path.hasPrefix("/") else { return path }
            guard let base = baseURL else {
                // Only a usage error when the operator typed it; a declared path without base_url is skipped as today.
                if url.isEmpty { return "" }
                throw ValidationError("--url '\(path)' is a path but the environment has no base_url: set base_url in opsctl.yaml or give a full URL")
            }
            return base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path
        }.filter { !$0.isEmpty }
    }

    /// The JSON expectations of the declared endpoints when they all agree (the health runbook takes one set).
    var sharedExpectations: [String: JSONValue] {
        guard let first = endpoints.first, endpoints.allSatisfy({ $0.expect == first.expect }) else { return [:] }
        return first.expect
    }

    /// A per-endpoint setting when the declared endpoints all agree on it (and --url was not given).
    func shared(_ setting: KeyPath<ServiceMapping.HealthEndpoint, String?>) -> String? {
        guard url.isEmpty, let first = endpoints.first?[keyPath: setting],
              endpoints.allSatisfy({ $0[keyPath: setting] == first }) else { return nil }
        return first
    }
}
