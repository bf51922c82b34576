import Checks
import Foundation

/// `service.retention[]`: per-table retention policies, checked where they are written (unknown keys and
/// bad values name file:line:col) and turned into the typed policies `postgres.retention` runs.
extension ServiceConfig {
    static func checkRetention(_ node: YAMLValue, file: String, block: String) throws {
        func fail(_ n: YAMLValue, _ message: String, _ hint: String? = nil) -> LoadError {
            LoadError(file: file, line: n.position.line, column: n.position.column, message: message, hint: hint)
        }
        func keys(_ n: YAMLValue, _ allowed: [String], _ what: String) throws {
            guard case let .mapping(pairs, _) = n else { throw fail(n, "\(what) must be a mapping, not \(n.kindName)") }
            for pair in pairs where !allowed.contains(pair.key) {
                throw LoadError(file: file, line: pair.keyPosition.line, column: pair.keyPosition.column,
                                message: "unknown key '\(pair.key)' in \(what)\(closest(to: pair.key, in: allowed).map { ", did you mean '\($0)'?" } ?? "")",
                                hint: "known keys: \(allowed.joined(separator: ", "))")
            }
        }
        guard case let .sequence(items, _) = node else {
            throw fail(node, "\(block).retention must be a list of policies ({table, time_column, older_than, ...})")
        }
        let shapes = RetentionPolicy.keyShapes
        var names: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            let place = "\(block).retention[\(i)]"
            try keys(item, shapes.policy, place)
            if let a = item.value("archive") { try keys(a, shapes.archive, "\(place).archive") }
            if let b = item.value("batch") { try keys(b, shapes.batch, "\(place).batch") }
            // The remaining checks (required keys, durations, one archive target) are the policy's own.
            let policy: RetentionPolicy
            do { policy = try RetentionPolicy(json: item.json, place: place) } catch let error as StepError {
                throw fail(item, error.message, "see the README's config reference: service.retention")
            }
            if let earlier = names[policy.name] {
                throw fail(item, "\(place) has the same name as \(block).retention[\(earlier)] ('\(policy.name)'): each policy has its own checkpoint",
                           "give one of them a name: key")
            }
            names[policy.name] = i
        }
    }

    static func retention(_ json: JSONValue?, file: String, node: YAMLValue) throws -> [RetentionPolicy] {
        try (json?.array ?? []).enumerated().map { i, item in
            do { return try RetentionPolicy(json: item, place: "service.retention[\(i)]") } catch let error as StepError {
                throw LoadError(file: file, line: node.position.line, column: node.position.column, message: error.message)
            }
        }
    }
}
