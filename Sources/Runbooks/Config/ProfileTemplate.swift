import Checks
import Foundation

/// `opsctl init --profile NAME`: a commented opsctl.yaml that starts from a shipped profile, with
/// the profile's whole mapping written out (commented) so the user sees every key they can override.
public enum ProfileTemplate {
    /// Names of the shipped profiles (`profiles/NAME/profile.yaml` beside the shipped runbooks).
    public static var shipped: [String] { ServiceConfig.shippedProfiles }

    public static func opsctlYAML(profile name: String) throws -> String {
        guard let path = ServiceConfig.profileFile(name),
              let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw LoadError(file: "\(name).yaml", message: "no shipped profile '\(name)'\(closest(to: name, in: shipped).map { ", did you mean '\($0)'?" } ?? "")",
                            hint: "shipped profiles: \(shipped.joined(separator: ", "))")
        }
        // Only the service block's lines, commented: uncomment a key to override it.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let body = lines.drop { !$0.hasPrefix("service:") }.dropFirst()
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { "#" + $0 }
        return """
            # opsctl configuration (written by `opsctl init --profile \(name)`). Secrets are never written here:
            # only the names of the environment variables holding them. Reference: README, "Configuration".
            default_environment: local
            runbooks_dir: runbooks            # your runbooks; one named like a shipped one shadows it
            environments:
              local:
                base_url: http://127.0.0.1:8080
                database_url_env: DATABASE_URL
              # production:
              #   base_url: https://app.example.com
              #   database_url_env: PROD_DATABASE_URL
              #   protected: true             # mutating steps need --confirm production
              #   service:                    # per-environment overrides of the block below
              #     health: [{ path: /healthz }]

            # What the service looks like: its event store, health endpoints and webhook provider.
            # It starts from the shipped '\(name)' profile; uncomment a key below to change it, then
            # run `opsctl doctor` to check the mapping against the database.
            service:
              profile: \(name)
            #  The profile's mapping:
            \(body.joined(separator: "\n"))

            """
    }
}
