import Checks
import Foundation

/// `service.release: {version_endpoint, json, rollback_command}`: checked where it is written (unknown
/// keys and wrong types name file:line:col).
extension ServiceConfig {
    static let releaseKeys = ["version_endpoint", "json", "rollback_command"]

    static func checkRelease(_ node: YAMLValue, file: String, block: String) throws {
        let what = "\(block).release"
        guard case let .mapping(pairs, _) = node else {
            throw LoadError(file: file, line: node.position.line, column: node.position.column,
                            message: "\(what) must be a mapping ({version_endpoint, json, rollback_command}), not \(node.kindName)")
        }
        for pair in pairs {
            guard releaseKeys.contains(pair.key) else {
                throw LoadError(file: file, line: pair.keyPosition.line, column: pair.keyPosition.column,
                                message: "unknown key '\(pair.key)' in \(what)\(closest(to: pair.key, in: releaseKeys).map { ", did you mean '\($0)'?" } ?? "")",
                                hint: "known keys: \(releaseKeys.joined(separator: ", "))")
            }
            guard case .scalar = pair.value, pair.value.string?.isEmpty == false else {
                throw LoadError(file: file, line: pair.value.position.line, column: pair.value.position.column,
                                message: "\(what).\(pair.key) must be a non-empty string, not \(pair.value.kindName)")
            }
        }
    }

    static func release(_ json: JSONValue?) -> ReleaseSettings {
        ReleaseSettings(versionEndpoint: json?["version_endpoint"]?.string, versionJSON: json?["json"]?.string,
                        rollbackCommand: json?["rollback_command"]?.string)
    }
}
