import Foundation

/// `service.release`: where the service says which release it runs, and the deploy platform's command
/// that puts an earlier release back (`{release}` in it stands for the release id).
public struct ReleaseSettings: Sendable, Equatable {
    /// URL or path on base_url answering with the running release (`/version`).
    public var versionEndpoint: String?
    /// Where the id is in that endpoint's JSON (`.version`); nil: the body is the id.
    public var versionJSON: String?
    /// e.g. `kubectl rollout undo deployment/NAME --to-revision={release}` or `vercel rollback {release}`.
    public var rollbackCommand: String?

    public init(versionEndpoint: String? = nil, versionJSON: String? = nil, rollbackCommand: String? = nil) {
        self.versionEndpoint = versionEndpoint
        self.versionJSON = versionJSON
        self.rollbackCommand = rollbackCommand
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = [:]
        if let versionEndpoint { o["version_endpoint"] = .string(versionEndpoint) }
        if let versionJSON { o["json"] = .string(versionJSON) }
        if let rollbackCommand { o["rollback_command"] = .string(rollbackCommand) }
        return .object(o)
    }

    /// The rollback command for one release: `{release}` becomes a quoted variable the shell step sets
    /// (`OPSCTL_RELEASE`), so a release id is never pasted into the command as code.
    public static func bind(_ command: String) -> String {
        command.replacingOccurrences(of: "{release}", with: "\"${OPSCTL_RELEASE}\"")
    }
}
