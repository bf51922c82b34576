import Checks
import Foundation

/// opsctl.yaml's `backups:` block (shared at the top level, overridden key by key per environment):
/// where dumps go, how many to keep, the upload/download hooks and the tables whose row counts a
/// manifest records. Runbooks read it as `${config.backups.*}`.
enum BackupConfig {
    static let keys = ["dir", "keep", "after_create", "before_restore", "count_tables", "invariants"]
    static let keepKeys = ["daily", "weekly", "monthly"]
    static let invariantKeys = ["name", "sql"]

    /// The defaults every environment starts from (a `backups/` directory beside opsctl.yaml).
    static func defaults(directory: String?) -> [String: JSONValue] {
        [
            "dir": .string((directory.map { $0 + "/" } ?? "") + "backups"),
            "keep": .object(["daily": .int(7), "weekly": .int(4), "monthly": .int(3)]),
            "count_tables": .array([]),
            "invariants": .array([]),
        ]
    }

    /// Checks one `backups:` block as written and returns the keys it sets.
    static func check(_ node: YAMLValue, _ what: String, _ values: StrictValues, directory: String) throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for pair in try values.mapping(node, what, keys: keys) {
            let key = "\(what).\(pair.key)"
            switch pair.key {
            case "dir":
                let dir = try values.text(pair.value, key)
                out["dir"] = .string(dir.hasPrefix("/") ? dir : directory + "/" + dir)
            case "keep":
                var keep: [String: JSONValue] = [:]
                for entry in try values.mapping(pair.value, key, keys: keepKeys) {
                    keep[entry.key] = .int(try values.int(entry.value, "\(key).\(entry.key)", in: 0...10_000))
                }
                out["keep"] = .object(keep)
            case "after_create", "before_restore": out[pair.key] = .string(try values.text(pair.value, key))
            case "count_tables": out["count_tables"] = .array(try values.textList(pair.value, key).map(JSONValue.string))
            case "invariants":
                guard case let .sequence(items, _) = pair.value else {
                    throw values.fail(pair.value, "'\(key)' must be a list of {name, sql}")
                }
                out["invariants"] = .array(try items.enumerated().map { i, item in
                    let itemWhat = "\(key)[\(i)]"
                    _ = try values.mapping(item, itemWhat, keys: invariantKeys)
                    guard let name = item.value("name"), let sql = item.value("sql") else {
                        throw values.fail(item, "'\(itemWhat)' needs name and sql (a query returning the number of violating rows)")
                    }
                    return .object(["name": .string(try values.text(name, "\(itemWhat).name")),
                                    "sql": .string(try values.text(sql, "\(itemWhat).sql"))])
                })
            default: break
            }
        }
        return out
    }

    /// Defaults, then the shared block, then the environment's; `keep` merges key by key.
    static func resolve(shared: [String: JSONValue]?, environment: [String: JSONValue]?, directory: String?) -> JSONValue {
        var merged = defaults(directory: directory)
        for layer in [shared, environment].compactMap({ $0 }) {
            for (key, value) in layer {
                if key == "keep", case var .object(keep) = merged["keep"] ?? .null, case let .object(over) = value {
                    for (k, v) in over { keep[k] = v }
                    merged["keep"] = .object(keep)
                } else {
                    merged[key] = value
                }
            }
        }
        return .object(merged)
    }
}
