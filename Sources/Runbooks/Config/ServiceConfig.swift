import Checks
import Foundation

/// opsctl.yaml's `service:` block: parsed, checked key by key (unknown keys and wrong types name
/// file:line:col), layered (shipped profile, then the shared block, then the environment's block) and
/// turned into the typed `ServiceMapping` steps read.
enum ServiceConfig {
    /// The profile used when opsctl.yaml has no `service:` block anywhere: today's reference service.
    static let defaultProfile = "churn-saver"

    // MARK: - Key checks

    enum Shape { case string, stringOrList, int, intOrList, mapping, duration }

    static let serviceKeys = ["profile", "health", "events", "provider", "synthetic_cleanup", "env_rules", "retention", "release"]
    static let cleanupKeys: [String: Shape] = ["table": .string, "column": .string]
    static let healthKeys: [String: Shape] = ["path": .string, "expect_status": .intOrList, "expect": .mapping,
                                              "latency_warn": .duration, "latency_crit": .duration]
    static let eventKeys: [String: Shape] = ["table": .string, "id": .string, "provider_id": .string, "type": .string,
                                             "payload": .string, "received_at": .stringOrList, "occurred_at": .string,
                                             "state": .mapping, "error": .string, "attempts": .string, "tenant": .string]
    static let stateKeys: [String: Shape] = ["column": .string, "type": .string, "pending": .string, "processed": .string,
                                             "failed": .string]
    static let stateTypes = ["bool", "status", "timestamp"]

    /// Checks one `service:` block as written (keys, types, enumerations) and returns it as JSON.
    static func check(_ node: YAMLValue, file: String, in place: String) throws -> JSONValue {
        func fail(_ n: YAMLValue, _ message: String, _ hint: String? = nil) -> LoadError {
            LoadError(file: file, line: n.position.line, column: n.position.column, message: message, hint: hint)
        }
        func keys(_ n: YAMLValue, _ allowed: [String], _ what: String) throws -> [(key: String, keyPosition: YAMLValue.Position, value: YAMLValue)] {
            guard case let .mapping(pairs, _) = n else { throw fail(n, "\(what) must be a mapping, not \(n.kindName)") }
            for pair in pairs where !allowed.contains(pair.key) {
                throw LoadError(file: file, line: pair.keyPosition.line, column: pair.keyPosition.column,
                                message: "unknown key '\(pair.key)' in \(what)\(closest(to: pair.key, in: allowed).map { ", did you mean '\($0)'?" } ?? "")",
                                hint: "known keys: \(allowed.joined(separator: ", "))")
            }
            return pairs
        }
        func shaped(_ n: YAMLValue, _ shape: Shape, _ what: String) throws {
            switch (shape, n) {
            case (.string, .scalar), (.duration, .scalar), (.mapping, .mapping): return
            case (.int, .scalar), (.intOrList, .scalar):
                if Int(n.string ?? "") == nil { throw fail(n, "\(what) must be a whole number, not '\(n.string ?? "")'") }
                return
            case let (.intOrList, .sequence(items, _)):
                for item in items { try shaped(item, .int, what) }
                return
            case let (.stringOrList, .sequence(items, _)):
                for item in items { try shaped(item, .string, what) }
                return
            case (.stringOrList, .scalar): return
            default:
                let wanted = ["string": "a string", "stringOrList": "a string or a list of strings", "int": "a number",
                              "intOrList": "a number or a list of numbers", "mapping": "a mapping", "duration": "a duration like 500ms"]
                throw fail(n, "\(what) must be \(wanted["\(shape)"] ?? "\(shape)"), not \(n.kindName)")
            }
        }
        func fields(_ n: YAMLValue, _ allowed: [String: Shape], _ what: String) throws {
            for pair in try keys(n, allowed.keys.sorted(), what) {
                try shaped(pair.value, allowed[pair.key]!, "\(what).\(pair.key)")
            }
        }
        let block = "\(place)service"
        for pair in try keys(node, serviceKeys, block) {
            let value = pair.value
            switch pair.key {
            case "profile": try shaped(value, .string, "\(block).profile")
            case "health":
                guard case let .sequence(items, _) = value else { throw fail(value, "\(block).health must be a list of endpoints ({path: /health, ...})") }
                for (i, item) in items.enumerated() {
                    try fields(item, healthKeys, "\(block).health[\(i)]")
                    guard item.value("path")?.string?.isEmpty == false else { throw fail(item, "\(block).health[\(i)] needs a path (e.g. /health)") }
                }
            case "events":
                try fields(value, eventKeys, "\(block).events")
                if let state = value.value("state") {
                    try fields(state, stateKeys, "\(block).events.state")
                    if let t = state.value("type"), let name = t.string, !stateTypes.contains(name) {
                        throw fail(t, "\(block).events.state.type '\(name)' is not one of \(stateTypes.joined(separator: ", "))")
                    }
                }
            case "synthetic_cleanup":
                guard case let .sequence(items, _) = value else { throw fail(value, "\(block).synthetic_cleanup must be a list of {table, column}") }
                for (i, item) in items.enumerated() {
                    try fields(item, cleanupKeys, "\(block).synthetic_cleanup[\(i)]")
                    if item.value("table") == nil || item.value("column") == nil {
                        throw fail(item, "\(block).synthetic_cleanup[\(i)] needs table and column")
                    }
                }
            case "env_rules": _ = try Config.envRules(value, "\(block).env_rules", StrictValues(file: file))
            case "provider": try checkProvider(value, file: file, what: "\(block).provider")
            case "retention": try checkRetention(value, file: file, block: block)
            case "release": try checkRelease(value, file: file, block: block)
            default: break
            }
        }
        return node.json
    }

    // MARK: - Layers

    /// `over` on top of `base`: the service block and its `events`/`provider` mappings merge key by key;
    /// everything else (health list, state, expect) is replaced whole.
    static func merge(_ base: JSONValue, _ over: JSONValue, depth: Int = 0) -> JSONValue {
        guard depth < 2, case var .object(b) = base, case let .object(o) = over else { return over }
        for (key, value) in o {
            let deep = depth == 0 && (key == "events" || key == "provider" || key == "release")
            b[key] = deep && b[key] != nil ? merge(b[key]!, value, depth: depth + 1) : value
        }
        return .object(b)
    }

    /// Where shipped profiles live: `profiles/` beside the shipped runbooks directory, one directory
    /// per profile (`profiles/NAME/profile.yaml`, `profiles/NAME/runbooks/`).
    static var profilesDirectory: String? {
        guard let runbooks = RunbookLibrary.shippedDirectory else { return nil }
        let dir = URL(fileURLWithPath: runbooks).deletingLastPathComponent().appendingPathComponent("profiles").path
        return FileManager.default.fileExists(atPath: dir) ? dir : nil
    }

    /// Names of the shipped profiles: the directories of `profiles/` holding a profile.yaml.
    static var shippedProfiles: [String] {
        guard let dir = profilesDirectory else { return [] }
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { FileManager.default.fileExists(atPath: "\(dir)/\($0)/profile.yaml") }.sorted()
    }

    /// A shipped profile's `profile.yaml`, if the profile exists.
    static func profileFile(_ name: String) -> String? {
        guard let dir = profilesDirectory, !name.contains("/"), !name.hasPrefix(".") else { return nil }
        let path = "\(dir)/\(name)/profile.yaml"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// A shipped profile's runbooks (the fragments the generic verbs include, and its own runbooks).
    static func profileRunbooksDirectory(_ name: String) -> String? {
        guard let file = profileFile(name) else { return nil }
        let dir = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("runbooks").path
        return FileManager.default.fileExists(atPath: dir) ? dir : nil
    }

    /// A shipped profile's `service:` block, checked like the user's.
    static func profile(_ name: String, file: String, at node: YAMLValue?) throws -> JSONValue {
        guard let path = profileFile(name), let data = FileManager.default.contents(atPath: path),
              let text = String(data: data, encoding: .utf8) else {
            let known = shippedProfiles
            throw LoadError(file: file, line: node?.position.line ?? 0, column: node?.position.column ?? 0,
                            message: "no shipped profile '\(name)'\(closest(to: name, in: known).map { ", did you mean '\($0)'?" } ?? "")",
                            hint: "shipped profiles: \(known.isEmpty ? "none found beside the shipped runbooks" : known.joined(separator: ", "))")
        }
        let doc = try YAMLDocument.parse(text, file: path)
        guard let block = doc.value("service") else { throw LoadError(file: path, message: "a profile file needs a 'service:' block") }
        var json = try check(block, file: path, in: "")
        if case var .object(o) = json { o["profile"] = .string(name); json = .object(o) }
        return json
    }

    /// The environment's mapping: profile (given, or churn-saver when no block exists at all), then the
    /// shared block, then the environment's own. `node` locates errors about the merged result.
    static func resolve(shared: JSONValue?, environment: JSONValue?, file: String, node: YAMLValue) throws -> ServiceMapping {
        let profileName = environment?["profile"]?.string ?? shared?["profile"]?.string
            ?? (shared == nil && environment == nil ? defaultProfile : nil)
        var merged: JSONValue = .object([:])
        if let profileName {
            do {
                merged = try profile(profileName, file: file, at: node)
            } catch {
                // No block written and no shipped profile beside the binary: steps that need the mapping say so.
                if shared == nil && environment == nil { return ServiceMapping() }
                throw error
            }
        }
        if let shared { merged = merge(merged, shared) }
        if let environment { merged = merge(merged, environment) }
        return try mapping(merged, file: file, node: node)
    }

    /// The mapping without any opsctl.yaml: the default profile, or nothing when it is not shipped.
    static let defaultMapping: ServiceMapping =
        (try? resolve(shared: nil, environment: nil, file: "opsctl.yaml", node: .null(.init(line: 0, column: 0)))) ?? ServiceMapping()

    // MARK: - Typed mapping

    static func mapping(_ json: JSONValue, file: String, node: YAMLValue) throws -> ServiceMapping {
        func fail(_ message: String, _ hint: String? = nil) -> LoadError {
            LoadError(file: file, line: node.position.line, column: node.position.column, message: message, hint: hint)
        }
        func list(_ v: JSONValue?) -> [String] {
            if let a = v?.array { return a.compactMap(\.string) }
            return v?.string.map { [$0] } ?? []
        }
        var mapping = ServiceMapping(profile: json["profile"]?.string)
        for item in json["health"]?.array ?? [] {
            let status = item["expect_status"]
            mapping.health.append(.init(path: item["path"]?.string ?? "",
                                        expectStatus: status == nil ? [200] : (status?.array?.compactMap(\.int) ?? status?.int.map { [$0] } ?? [200]),
                                        expect: item["expect"]?.object ?? [:],
                                        latencyWarn: item["latency_warn"]?.string, latencyCrit: item["latency_crit"]?.string))
        }
        if let e = json["events"], e != .object([:]) {
            for key in ["table", "provider_id", "payload", "state"] where e[key] == nil {
                throw fail("service.events needs '\(key)'", "required: table, provider_id, payload, state (see the README's service reference)")
            }
            let s = e["state"] ?? .object([:])
            guard let column = s["column"]?.string else { throw fail("service.events.state needs 'column'") }
            let values = ["pending", "processed", "failed"].map { s[$0]?.string }
            let type = s["type"]?.string ?? (values.contains { $0 != nil } ? "status" : "bool")
            let state: EventStore.State
            switch type {
            case "status":
                guard let pending = values[0], let processed = values[1], let failed = values[2] else {
                    throw fail("service.events.state of type status needs pending, processed and failed values",
                               "e.g. state: { column: status, pending: pending, processed: processed, failed: failed }")
                }
                state = .status(column: column, pending: pending, processed: processed, failed: failed)
            case "timestamp": state = .timestamp(column: column)
            default:
                if values.contains(where: { $0 != nil }) {
                    throw fail("service.events.state of type \(type) takes no pending/processed/failed values", "drop them, or say type: status")
                }
                state = .boolean(column: column)
            }
            mapping.events = EventStore(table: e["table"]?.string ?? "", providerID: e["provider_id"]?.string ?? "",
                                        rowID: e["id"]?.string, type: e["type"]?.string, payload: e["payload"]?.string ?? "",
                                        receivedAt: list(e["received_at"]), occurredAt: e["occurred_at"]?.string, state: state,
                                        error: e["error"]?.string, attempts: e["attempts"]?.string, tenant: e["tenant"]?.string)
        }
        mapping.envRules = json["env_rules"]?.object ?? [:]
        for item in json["synthetic_cleanup"]?.array ?? [] {
            mapping.syntheticCleanup.append(.init(table: item["table"]?.string ?? "", column: item["column"]?.string ?? ""))
        }
        mapping.retention = try retention(json["retention"], file: file, node: node)
        if let p = json["provider"] { mapping.provider = provider(p) }
        mapping.release = release(json["release"])
        return mapping
    }
}
