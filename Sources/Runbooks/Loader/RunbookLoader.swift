import Checks
import Foundation
import Support

/// Reads a runbook file, validates everything that can be checked before running, and
/// expands `for_each`. Every error is a `LoadError` naming file:line:col (exit 65).
public struct RunbookLoader: Sendable {
    public var library: RunbookLibrary
    /// False to validate a runbook without its required params (`opsctl runbooks` lists what a run would need).
    public var requiresParams = true
    /// The environment as `${config.*}` sees it, for `for_each: ${config.service.health}` (expanded at load
    /// time). Nil: the built-in environment (the default profile's mapping).
    public var config: JSONValue?

    public init(library: RunbookLibrary) {
        self.library = library
    }

    static let topKeys = ["name", "description", "params", "lock", "steps"]
    static let stepKeys = ["id", "kind", "title", "with", "needs", "when", "retry", "timeout", "always",
                           "continue_on_failure", "confirm", "remediation", "for_each", "if_needs_skipped", "database"]
    static let retryKeys = ["attempts", "delay", "backoff", "until"]
    static let paramKeys = ["type", "default", "required", "description"]

    /// Loads `nameOrPath` (a shipped/user runbook name or a file) with the given param values.
    public func load(_ nameOrPath: String, params: [String: JSONValue] = [:]) throws -> Runbook {
        try load(nameOrPath, params: params, including: [])
    }

    func load(_ nameOrPath: String, params: [String: JSONValue], including: [String]) throws -> Runbook {
        let file = try library.locate(nameOrPath)
        guard !including.contains(file) else {
            throw LoadError(file: file, message: "runbook includes itself: \((including + [file]).joined(separator: " -> "))")
        }
        return try parse(try read(file), file: file, params: params, including: including + [file])
    }

    /// A runbook file's text; unreadable or non-UTF-8 is a LoadError.
    func read(_ file: String) throws -> String {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            guard let decoded = String(data: data, encoding: .utf8) else {
                throw LoadError(file: file, message: "not UTF-8 text", hint: "save the runbook as UTF-8")
            }
            return decoded
        } catch let error as LoadError {
            throw error
        } catch {
            throw LoadError(file: file, message: "cannot read: \(error.localizedDescription)")
        }
    }

    public func parse(_ text: String, file: String, params: [String: JSONValue] = [:]) throws -> Runbook {
        try parse(text, file: file, params: params, including: [file])
    }

    func parse(_ text: String, file: String, params given: [String: JSONValue], including: [String]) throws -> Runbook {
        let document = try YAMLDocument.parse(text, file: file)
        func fail(_ node: YAMLValue, _ message: String, _ hint: String? = nil) -> LoadError {
            LoadError(file: file, line: node.position.line, column: node.position.column, message: message, hint: hint)
        }
        guard case let .mapping(top, _) = document else {
            throw fail(document, "a runbook is a mapping with name, description, params and steps", "see README, 'Writing a runbook'")
        }
        for entry in top where !Self.topKeys.contains(entry.key) {
            throw LoadError(file: file, line: entry.keyPosition.line, column: entry.keyPosition.column,
                            message: "unknown key '\(entry.key)'\(suggest(entry.key, Self.topKeys))")
        }
        let fallbackName = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let name = try document.value("name").map { try scalar($0, "name", file) } ?? fallbackName
        let description = try document.value("description").map { try scalar($0, "description", file) } ?? ""
        let declared = try parseParams(document.value("params"), file: file)
        let values = try bind(params: declared, given: given, file: file)

        guard let stepsNode = document.value("steps") else {
            throw LoadError(file: file, line: 1, column: 1, message: "missing 'steps'", hint: "a runbook needs at least one step")
        }
        // An empty list is a fragment with nothing to add (a profile without log tables has no metrics).
        guard case let .sequence(stepNodes, _) = stepsNode else {
            throw fail(stepsNode, "'steps' must be a list of steps")
        }
        var steps: [Step] = []
        var expansions: [String: [String]] = [:]
        for node in stepNodes {
            let parsed = node.value("include") != nil
                ? try parseInclude(node, file: file, values: values, including: including)
                : try parseStep(node, file: file, params: declared, values: values, including: including)
            if node.value("for_each") != nil, let id = node.value("id")?.string { expansions[id] = parsed.map(\.id) }
            steps += parsed
        }
        // `needs: X` of a for_each step X means every step it expanded to (none for an empty list).
        for i in steps.indices where steps[i].needs.contains(where: { expansions[$0] != nil }) {
            steps[i].needs = steps[i].needs.flatMap { expansions[$0] ?? [$0] }
        }
        try checkGraph(steps, file: file)
        try checkReferences(steps, params: declared, file: file)
        var runbook = Runbook(name: name, description: description, file: file, params: declared, values: values, steps: steps)
        if let node = document.value("lock") {
            runbook.lock = try parseLock(node, params: declared, values: values, file: file)
        }
        return runbook
    }

    /// `lock: true` (default: one run of the runbook at a time), `false`, or a key with `${params.x}`.
    func parseLock(_ node: YAMLValue, params: [RunbookParam], values: [String: JSONValue], file: String) throws -> RunLock {
        func fail(_ message: String) -> LoadError {
            LoadError(file: file, line: node.position.line, column: node.position.column, message: message,
                      hint: "lock: true (one run at a time), false (steps coordinate themselves) or a key like deploy-${params.service}")
        }
        if case .scalar = node, let flag = node.json.bool, node.json.string != nil { return flag ? .runbook : .none }
        guard let template = node.string, !template.isEmpty else { throw fail("'lock' must be true, false or a lock key") }
        for reference in Interpolation.references(in: template) {
            let name = reference.hasPrefix("params.") ? String(reference.dropFirst("params.".count)) : nil
            guard let name, params.contains(where: { $0.name == name }) else {
                throw fail("'lock' may use only declared params: ${\(reference)} is not one\(suggest(name ?? reference, params.map(\.name)))")
            }
        }
        do {
            let key = try Interpolation.resolve(template, in: Scope(params: values))
            return .named(key.string ?? key.jsonText)
        } catch {
            throw fail("'lock': \(error)")
        }
    }

    // MARK: - Params

    func parseParams(_ node: YAMLValue?, file: String) throws -> [RunbookParam] {
        guard let node else { return [] }
        guard case let .mapping(pairs, _) = node else {
            throw LoadError(file: file, line: node.position.line, column: node.position.column,
                            message: "'params' must be a mapping of name: {type, default, required, description}")
        }
        return try pairs.map { pair in
            if case .mapping = pair.value {
                for key in keys(of: pair.value) where !Self.paramKeys.contains(key.key) {
                    throw LoadError(file: file, line: key.position.line, column: key.position.column,
                                    message: "unknown key '\(key.key)' in param '\(pair.key)'\(suggest(key.key, Self.paramKeys))")
                }
                let typeName = pair.value.value("type")?.string ?? "string"
                guard let type = ParameterType(rawValue: typeName) else {
                    let p = pair.value.value("type")!.position
                    throw LoadError(file: file, line: p.line, column: p.column, message: "unknown param type '\(typeName)'",
                                    hint: "one of string, int, number, bool, duration, list, map")
                }
                if let node = pair.value.value("default") { try literalDefault(node, param: pair.key, file: file) }
                return RunbookParam(name: pair.key, type: type, defaultValue: pair.value.value("default")?.json,
                                    required: try pair.value.value("required").map { try bool($0, "params.\(pair.key).required", file) } ?? false,
                                    description: pair.value.value("description")?.string ?? "")
            }
            // Shorthand `name: default`.
            try literalDefault(pair.value, param: pair.key, file: file)
            let value = pair.value.json
            let type: ParameterType
            switch value {
            case .int: type = .int
            case .double: type = .number
            case .bool: type = .bool
            case .array: type = .list
            case .object: type = .map
            default: type = .string
            }
            return RunbookParam(name: pair.key, type: type, defaultValue: value.isNull ? nil : value, required: false, description: "")
        }
    }

    /// Param defaults are bound before any step runs, where `${config.…}` and `${env.…}` have no
    /// meaning yet: say so at the default's position instead of failing later without one.
    func literalDefault(_ node: YAMLValue, param: String, file: String) throws {
        guard let reference = Interpolation.references(in: node.json).first else { return }
        throw LoadError(file: file, line: node.position.line, column: node.position.column,
                        message: "the default of param '\(param)' is a literal value; ${\(reference)} is not resolved there",
                        hint: "use ${\(reference)} directly in the step's 'with' (e.g. warn: ${config.thresholds.NAME:-10}) or pass --param \(param)=VALUE")
    }

    /// Checks given values against declarations, converts CLI strings to the declared type, fills defaults.
    func bind(params: [RunbookParam], given: [String: JSONValue], file: String) throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for name in given.keys.sorted() where !params.contains(where: { $0.name == name }) {
            throw LoadError(file: file, message: "unknown param '\(name)'\(suggest(name, params.map(\.name)))",
                            hint: "declared params: \(params.map(\.name).joined(separator: ", "))")
        }
        for p in params {
            guard let raw = given[p.name] ?? p.defaultValue else {
                if p.required && requiresParams { throw LoadError(file: file, message: "param '\(p.name)' is required", hint: "pass --param \(p.name)=VALUE") }
                continue
            }
            out[p.name] = try convert(raw, to: p.type) ?? {
                throw LoadError(file: file, message: "param '\(p.name)' must be \(p.type.rawValue), got \(raw.string ?? raw.jsonText)")
            }()
        }
        return out
    }

    func convert(_ value: JSONValue, to type: ParameterType) throws -> JSONValue? {
        switch type {
        case .string: return value.string.map(JSONValue.string) ?? value
        case .int: return value.int.map(JSONValue.int)
        case .number: return value.double.map(JSONValue.double)
        case .bool: return value.bool.map(JSONValue.bool)
        case .duration:
            guard let s = value.string, Self.isDuration(value) else { return nil }
            return .string(s)
        case .list:
            if case .array = value { return value }
            if let s = value.string { return .array(s.split(separator: ",").map { .string(String($0).trimmingCharacters(in: .whitespaces)) }) }
            return nil
        case .map:
            if case .object = value { return value }
            if let s = value.string, let parsed = JSONValue.parse(s), case .object = parsed { return parsed }
            return nil
        case .any: return value
        }
    }

    // MARK: - Steps

    func parseStep(_ node: YAMLValue, file: String, params: [RunbookParam], values: [String: JSONValue],
                   including: [String]) throws -> [Step] {
        func fail(_ n: YAMLValue, _ message: String, _ hint: String? = nil) -> LoadError {
            LoadError(file: file, line: n.position.line, column: n.position.column, message: message, hint: hint)
        }
        guard case .mapping = node else { throw fail(node, "each step is a mapping with at least id and kind") }
        for key in keys(of: node) where !Self.stepKeys.contains(key.key) {
            throw LoadError(file: file, line: key.position.line, column: key.position.column,
                            message: "unknown step key '\(key.key)'\(suggest(key.key, Self.stepKeys))")
        }
        guard let idNode = node.value("id") else { throw fail(node, "step has no 'id'", "give every step a short unique id") }
        let id = try scalar(idNode, "id", file)
        guard Self.isValidStepID(id) else {
            throw fail(idNode, "step id '\(id)' may only contain letters, digits, '_', '.' and '-'")
        }
        guard let kindNode = node.value("kind") else { throw fail(node, "step '\(id)' has no 'kind'", "run 'opsctl kinds' for the list") }
        let kindName = try scalar(kindNode, "kind", file)
        let kind = StepRegistry.kind(named: kindName)
        if kind == nil && kindName != "runbook" {
            throw fail(kindNode, "unknown kind '\(kindName)'\(StepRegistry.suggestion(for: kindName))", "run 'opsctl kinds' for the list")
        }
        var with: [String: JSONValue] = [:]
        if let withNode = node.value("with") {
            guard case let .mapping(pairs, _) = withNode else { throw fail(withNode, "'with' of step '\(id)' must be a mapping") }
            for pair in pairs {
                if let kind, !kind.parameters.contains(where: { $0.name == pair.key }) {
                    throw LoadError(file: file, line: pair.keyPosition.line, column: pair.keyPosition.column,
                                    message: "kind '\(kindName)' has no parameter '\(pair.key)'\(suggest(pair.key, kind.parameters.map(\.name)))",
                                    hint: "see 'opsctl kinds \(kindName)'")
                }
                if let kind, let spec = kind.parameters.first(where: { $0.name == pair.key }) {
                    try checkType(pair.value, spec, file: file, step: id)
                    try checkCode(pair.value, spec, file: file, step: id)
                }
                with[pair.key] = pair.value.json
            }
        }
        if let kind {
            for spec in kind.parameters where spec.required && with[spec.name] == nil {
                throw fail(node, "step '\(id)': kind '\(kindName)' needs parameter '\(spec.name)' (\(spec.doc))")
            }
        }
        let needs = try node.value("needs").map { try stringList($0, "needs", file) } ?? []
        let when = try node.value("when").map { try condition($0, file) }
        let retry = try node.value("retry").map { try parseRetry($0, file: file) } ?? .once
        let timeout = try node.value("timeout").map { try duration($0, "timeout", file) }
        let always = try node.value("always").map { try bool($0, "always", file) } ?? false
        let continueOnFailure = try node.value("continue_on_failure").map { try bool($0, "continue_on_failure", file) } ?? false
        let confirm = try node.value("confirm").map { try bool($0, "confirm", file) } ?? false
        let remediation = try node.value("remediation").map { try scalar($0, "remediation", file) }
        let title = try node.value("title").map { try scalar($0, "title", file) } ?? id
        let database = try node.value("database").map { try scalar($0, "database", file) }
        let ifNeedsSkipped = try node.value("if_needs_skipped").map { n -> IfNeedsSkipped in
            guard let word = n.string, let value = IfNeedsSkipped(rawValue: word) else {
                throw fail(n, "'if_needs_skipped' of step '\(id)' must be skip or run",
                           "skip (default): a need skipped by its when: skips this step too; run: this step runs anyway")
            }
            return value
        } ?? .skip

        var included: IncludedRunbook?
        var mutates = kind?.mutates ?? false
        if kindName == "runbook" {
            guard let target = with["runbook"]?.string else {
                throw fail(node, "step '\(id)': kind 'runbook' needs 'runbook: NAME-or-FILE' in 'with'")
            }
            let childParams = with["params"]?.object ?? [:]
            let resolved = try childParams.mapValues { v in
                try Interpolation.resolve(v, in: Scope(params: values))
            }
            let child = try load(target, params: resolved, including: including)
            included = IncludedRunbook(runbook: child, params: resolved)
            mutates = !child.mutatingSteps.isEmpty
        } else if let kind {
            try checkParameters(kind, with: with, node: node, step: id, file: file)
            mutates = Self.mutates(kind, with: with)
        }

        var base = Step(id: id, kind: kindName, title: title, with: with, needs: needs, when: when, retry: retry,
                        timeout: timeout, always: always, continueOnFailure: continueOnFailure, confirm: confirm,
                        remediation: remediation, mutates: mutates, included: included,
                        line: node.position.line, column: node.position.column, ifNeedsSkipped: ifNeedsSkipped)
        base.database = database
        guard let forEachNode = node.value("for_each") else { return [base] }
        // for_each: a list, or ${params.x} naming a list param. Each item becomes its own step `id[i]`
        // (or `id[item]` for plain scalars), with ${item} resolved.
        let items: [JSONValue]
        switch forEachNode.json {
        case let .array(list): items = list
        case let .string(s):
            let scope = Scope(params: values, config: config ?? Config.builtin.environments.values.first?.json ?? .object([:]))
            guard let resolved = try? Interpolation.resolve(s, in: scope), case let .array(list) = resolved else {
                throw fail(forEachNode, "for_each of step '\(id)' must be a list, ${params.NAME} of a list param or a list of the config (${config.service.health})")
            }
            items = list
        default: throw fail(forEachNode, "for_each of step '\(id)' must be a list")
        }
        return try items.enumerated().map { index, item in
            var step = base
            step.id = items.count == 1 ? id : "\(id)-\(index + 1)"
            let scope = Scope(params: values, item: item)
            // Code parameters (SQL, commands) keep ${item} for run time, where it is bound, not pasted.
            let code = Set(kind?.parameters.filter { $0.code != nil }.map(\.name) ?? [])
            step.with = try Dictionary(uniqueKeysWithValues: base.with.map { key, value in
                (key, code.contains(key) ? value : try Self.resolveItem(value, scope: scope))
            })
            step.item = item
            step.title = (try? Self.resolveItem(.string(base.title), scope: scope).string ?? base.title) ?? base.title
            if step.title == base.title, let text = item.string { step.title = "\(base.title) \(text)" }
            return step
        }
    }

    /// Whether a configured step mutates: some kinds decide from their parameters (`shell` with
    /// `readonly: true`, `migrations.repair` with `mark`). Parameters that are still `${...}` at load
    /// time fall back to the kind's declaration, except a `readonly` flag which is read as written.
    public static func mutates(_ kind: any StepKind.Type, with: [String: JSONValue]) -> Bool {
        if Interpolation.references(in: .object(with)).isEmpty, let instance = try? kind.init(StepParameters(with)) {
            return instance.isMutating
        }
        if kind.name == "shell" { return !(with["readonly"]?.bool ?? false) }
        return kind.mutates
    }

    /// Builds the step once when its parameters are literal, so every value the kind checks (an enum like
    /// `format: xml`, a number out of range, a negative duration) is an error at load time with its
    /// file:line:col (exit 65), not a failed step at run time. Values with `${...}` are checked when they run.
    func checkParameters(_ kind: any StepKind.Type, with: [String: JSONValue], node: YAMLValue, step: String, file: String) throws {
        guard Interpolation.references(in: .object(with)).isEmpty else { return }
        do {
            _ = try kind.init(StepParameters(with, stepID: step))
        } catch {
            let message = "\(error)"
            // Point at the parameter the message names (`parameter 'max_rows'`), else at the step.
            var at = node.value("with") ?? node
            if case let .mapping(pairs, _) = at, let pair = pairs.first(where: { message.contains("'\($0.key)'") || message.contains("\($0.key) ") }) {
                at = pair.value
            }
            throw LoadError(file: file, line: at.position.line, column: at.position.column, message: message,
                            hint: "see 'opsctl kinds \(kind.name)'")
        }
    }

    /// Resolves only `${item...}` at load time; other references stay for run time.
    static func resolveItem(_ value: JSONValue, scope: Scope) throws -> JSONValue {
        switch value {
        case let .string(s):
            guard s.contains("${item") else { return value }
            let refs = Interpolation.references(in: s)
            if refs.allSatisfy({ $0 == "item" || $0.hasPrefix("item.") }) { return try Interpolation.resolve(s, in: scope) }
            var out = s
            for r in refs where r == "item" || r.hasPrefix("item.") {
                let v = scope.lookup(r) ?? .null
                out = out.replacingOccurrences(of: "${\(r)}", with: v.string ?? v.jsonText)
            }
            return .string(out)
        case let .array(a): return .array(try a.map { try resolveItem($0, scope: scope) })
        case let .object(o): return .object(try o.mapValues { try resolveItem($0, scope: scope) })
        default: return value
        }
    }

    func parseRetry(_ node: YAMLValue, file: String) throws -> RetryPolicy {
        if case .scalar = node {
            let n = try StrictValues(file: file).int(node, "retry", in: 0...1000)
            return RetryPolicy(attempts: max(1, n), delay: 1, backoff: 2, until: nil)
        }
        guard case .mapping = node else {
            throw LoadError(file: file, line: node.position.line, column: node.position.column, message: "'retry' must be a number or {attempts, delay, backoff, until}")
        }
        for key in keys(of: node) where !Self.retryKeys.contains(key.key) {
            throw LoadError(file: file, line: key.position.line, column: key.position.column,
                            message: "unknown retry key '\(key.key)'\(suggest(key.key, Self.retryKeys))")
        }
        let attempts = try node.value("attempts").map { n -> Int in
            if let reference = Interpolation.references(in: n.json).first {
                throw LoadError(file: file, line: n.position.line, column: n.position.column,
                                message: "retry.attempts is fixed when the runbook loads; ${\(reference)} is not resolved there",
                                hint: "write a number from 1 to 1000")
            }
            guard let v = n.json.int, v >= 1, v <= 1000 else {
                throw LoadError(file: file, line: n.position.line, column: n.position.column, message: "retry.attempts must be a whole number from 1 to 1000")
            }
            return v
        } ?? 3
        let delay = try node.value("delay").map { try duration($0, "retry.delay", file) } ?? 1
        let backoff = try node.value("backoff").map { n -> Double in
            guard let v = n.json.double, v >= 1, v <= 10 else {
                throw LoadError(file: file, line: n.position.line, column: n.position.column, message: "retry.backoff must be a number from 1 to 10")
            }
            return v
        } ?? 1
        let until = try node.value("until").map { try condition($0, file) }
        return RetryPolicy(attempts: attempts, delay: delay, backoff: backoff, until: until)
    }

    // MARK: - Whole-runbook checks

    func checkGraph(_ steps: [Step], file: String) throws {
        var seen: [String: Step] = [:]
        for step in steps {
            if let first = seen[step.id] {
                throw LoadError(file: file, line: step.line, column: step.column,
                                message: "duplicate step id '\(step.id)' (first used at line \(first.line))")
            }
            seen[step.id] = step
        }
        for step in steps {
            for need in step.needs where seen[need] == nil {
                throw LoadError(file: file, line: step.line, column: step.column,
                                message: "step '\(step.id)' needs unknown step '\(need)'\(suggest(need, Array(seen.keys)))")
            }
        }
        // Depth-first search for a cycle; report it as a path.
        var state: [String: Int] = [:]
        var path: [String] = []
        func visit(_ id: String) throws {
            if state[id] == 2 { return }
            if state[id] == 1 {
                let cycle = path[(path.firstIndex(of: id) ?? 0)...] + [id]
                let step = seen[id]!
                throw LoadError(file: file, line: step.line, column: step.column,
                                message: "cycle in needs: \(cycle.joined(separator: " -> "))", hint: "remove one of these needs")
            }
            state[id] = 1
            path.append(id)
            for need in seen[id]!.needs { try visit(need) }
            path.removeLast()
            state[id] = 2
        }
        for step in steps { try visit(step.id) }
    }

    func checkReferences(_ steps: [Step], params: [RunbookParam], file: String) throws {
        let byID = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, $0) })
        func ancestors(_ id: String) -> Set<String> {
            var out = Set<String>()
            var stack = byID[id]?.needs ?? []
            while let next = stack.popLast() {
                if out.insert(next).inserted { stack += byID[next]?.needs ?? [] }
            }
            return out
        }
        for step in steps {
            var refs = Interpolation.references(in: .object(step.with)) + (step.when?.paths ?? [])
                + Interpolation.references(in: step.title)
            if let r = step.remediation { refs += Interpolation.references(in: r) }
            if let d = step.database { refs += Interpolation.references(in: d) }
            // Computed only for steps that read other steps: a chain of n steps would cost n² otherwise.
            var reachableCache: Set<String>?
            func reachable() -> Set<String> {
                if let reachableCache { return reachableCache }
                let computed = ancestors(step.id)
                reachableCache = computed
                return computed
            }
            for ref in refs {
                let parts = ref.split(separator: ".").map(String.init)
                guard let head = parts.first else { continue }
                switch head {
                case "params":
                    // Included steps were checked against their own fragment's params when it loaded.
                    guard step.scopeParams == nil else { continue }
                    guard parts.count >= 2, params.contains(where: { $0.name == parts[1] }) else {
                        throw LoadError(file: file, line: step.line, column: step.column,
                                        message: "step '\(step.id)' uses undefined param '\(parts.dropFirst().first ?? "")'\(suggest(parts.dropFirst().first ?? "", params.map(\.name)))",
                                        hint: "declare it under 'params'")
                    }
                case "steps":
                    guard parts.count >= 3, byID[parts[1]] != nil else {
                        throw LoadError(file: file, line: step.line, column: step.column,
                                        message: "step '\(step.id)' refers to unknown step '\(parts.dropFirst().first ?? "")'")
                    }
                    guard step.needs.contains(parts[1]) || reachable().contains(parts[1]) else {
                        throw LoadError(file: file, line: step.line, column: step.column,
                                        message: "step '\(step.id)' reads steps.\(parts[1]) but does not need it",
                                        hint: "add '\(parts[1])' to its needs so it runs first")
                    }
                case "env", "secret", "item", "config", "run": continue
                case "window":
                    // sql.query binds its window's bounds itself, once per window it queries.
                    guard step.kind == SQLQuery.name, ref == "window.start" || ref == "window.end" else {
                        throw LoadError(file: file, line: step.line, column: step.column,
                                        message: "step '\(step.id)': ${\(ref)} exists only in sql.query steps with window:",
                                        hint: "use ${window.start} / ${window.end} in a sql.query's sql: and set window: (e.g. 15m)")
                    }
                case "status", "message", "details", "attempts": continue
                default:
                    throw LoadError(file: file, line: step.line, column: step.column,
                                    message: "step '\(step.id)': unknown reference '\(ref)'",
                                    hint: "references start with params., env., secret. or steps.")
                }
            }
        }
    }

    // MARK: - Small typed readers

    func keys(of node: YAMLValue) -> [(key: String, position: YAMLValue.Position)] {
        guard case let .mapping(pairs, _) = node else { return [] }
        return pairs.map { ($0.key, $0.keyPosition) }
    }

    func scalar(_ node: YAMLValue, _ what: String, _ file: String) throws -> String {
        guard let s = node.string else {
            throw LoadError(file: file, line: node.position.line, column: node.position.column, message: "'\(what)' must be text, got \(node.kindName)")
        }
        return s
    }

    func bool(_ node: YAMLValue, _ what: String, _ file: String) throws -> Bool {
        try StrictValues(file: file).bool(node, what)
    }

    func duration(_ node: YAMLValue, _ what: String, _ file: String) throws -> Double {
        try StrictValues(file: file).duration(node, what)
    }

    /// A duration as a param or step parameter: text like `30s` or a number of seconds, from 0 to one year.
    static func isDuration(_ value: JSONValue) -> Bool {
        switch value {
        case .int, .double: return value.double.map { (0...DurationText.maximumSeconds).contains($0) } ?? false
        case let .string(s): return DurationText.seconds(s) != nil
        default: return false
        }
    }

    func stringList(_ node: YAMLValue, _ what: String, _ file: String) throws -> [String] {
        if let s = node.string { return [s] }
        guard case let .sequence(items, _) = node else {
            throw LoadError(file: file, line: node.position.line, column: node.position.column, message: "'\(what)' must be a step id or a list of step ids")
        }
        return try items.map { try scalar($0, what, file) }
    }

    func condition(_ node: YAMLValue, _ file: String) throws -> Condition {
        let text = try scalar(node, "condition", file)
        do { return try Condition(text) } catch let error as Condition.SyntaxError {
            throw LoadError(file: file, line: node.position.line, column: node.position.column + error.offset,
                            message: "\(error.message): \(text)", hint: "e.g. params.mode == 'full' && steps.health.status == 'ok'")
        }
    }

    func checkType(_ node: YAMLValue, _ spec: ParameterSpec, file: String, step: String) throws {
        let value = node.json
        if !Interpolation.references(in: value).isEmpty { return } // checked after interpolation at run time
        let ok: Bool
        switch spec.type {
        case .string: ok = value.string != nil
        case .int: ok = value.int != nil
        case .number: ok = value.double != nil
        // Only true/false: `readonly: yes`, `2` or "true" used to pass (and read as true).
        case .bool: if case .bool = value { ok = true } else { ok = false }
        case .duration: ok = Self.isDuration(value)
        case .list: ok = value.array != nil || value.string != nil
        case .map: ok = value.object != nil
        case .any: ok = true
        }
        if !ok {
            throw LoadError(file: file, line: node.position.line, column: node.position.column,
                            message: "step '\(step)': parameter '\(spec.name)' must be \(spec.type.rawValue), got \(node.kindName) \(value.string.map { "'\($0)'" } ?? "")",
                            hint: spec.doc)
        }
    }

    /// `[A-Za-z0-9][A-Za-z0-9_.-]*`, checked byte by byte (a regular expression costs ICU's set-up at every start).
    static func isValidStepID(_ id: String) -> Bool {
        func alphanumeric(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }
        guard let first = id.utf8.first, alphanumeric(first) else { return false }
        return id.utf8.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    func suggest(_ word: String, _ candidates: [String]) -> String {
        closest(to: word, in: candidates).map { ", did you mean '\($0)'?" } ?? ""
    }
}
